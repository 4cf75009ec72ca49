// What a run knows about the commits it would apply (GitOps): the stack's last applied commit,
// where the new commit stands relative to it, every commit in between with its author and
// signature verdict. The commit gates judge these; the authors may not approve the run.
import type { Ancestry } from '../platform/git-host/types.ts';
import type { CommitVerdict, ReconcileDeps } from './deps.ts';
import { identities } from './gates/approvals.ts';
import { RunFailure } from './run-record.ts';

export interface CommitFacts {
  /** The stack's last applied commit; undefined when nothing was applied from the repository yet. */
  applied?: string;
  commit: string;
  ancestry: Ancestry;
  /** Every commit after `applied` up to `commit`, oldest first (only `commit` when nothing was applied). */
  commits: { sha: string; author: string; verdict?: CommitVerdict }[];
  /** The host listed fewer commits than there are: nobody can say they were all checked. */
  truncated: boolean;
  requireSigned: boolean;
}

export interface FactsAndAuthors {
  facts: CommitFacts;
  /** `Name <email>` of each distinct author, in commit order. */
  authors: string[];
  /** Lower-cased identities (with catalog aliases) that may not approve the run. */
  identities: string[];
}

const person = (p: { name: string; email: string }) => (p.email ? `${p.name} <${p.email}>` : p.name);

/** The facts of `commit` for `stack`; undefined outside GitOps or without a commit. */
export async function commitFacts(d: Pick<ReconcileDeps, 'commits' | 'stores'>, stack: string, commit: string | undefined): Promise<FactsAndAuthors | undefined> {
  const port = d.commits;
  if (!port || !commit) return undefined;
  const summary = await d.stores.runs.stack(stack);
  // A commit applied from elsewhere (the archetypes folder, another repository) is no base here.
  const applied = summary?.lastAppliedSource === port.repoId ? summary.lastAppliedCommit : undefined;
  let cmp;
  try {
    // Nothing new since the applied commit: its own author still may not approve a re-apply.
    cmp = applied && applied !== commit ? await port.history(applied, commit) : await port.history(undefined, commit);
    if (applied === commit) cmp = { ...cmp, status: 'identical' as const };
  } catch (err) {
    const name = (err as Error).name;
    throw new RunFailure(name === 'GitRefNotFoundError' ? 'COMMIT_NOT_FOUND' : 'GIT_HOST_UNAVAILABLE', `reading the commits ${applied ? `${applied.slice(0, 12)}..` : ''}${commit.slice(0, 12)}: ${(err as Error).message}`, err);
  }
  const commits = await Promise.all(cmp.commits.map(async (c) => ({
    sha: c.sha, author: person(c.author),
    verdict: port.requireSigned ? await port.verify(c) : undefined,
  })));
  const authors = [...new Set(cmp.commits.map((c) => person(c.author)))];
  const logins = cmp.commits.map((c) => c.authorLogin).filter((x): x is string => !!x);
  let ids = identities(...authors, ...logins);
  if (port.aliases && ids.length) ids = [...new Set([...ids, ...(await port.aliases(ids))])];
  return {
    facts: { applied, commit, ancestry: cmp.status, commits, truncated: cmp.truncated, requireSigned: port.requireSigned },
    authors,
    identities: ids,
  };
}

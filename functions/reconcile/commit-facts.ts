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
  /** The host listed fewer commits than there are: nobody can say they were all checked, or who wrote them. */
  truncated: boolean;
  /** The tracked branch's head is (or descends from) `commit`. */
  onBranch: boolean;
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

/**
 * The facts of `commit` for `stack`; undefined outside GitOps or without a commit. `also` are more
 * people who may not approve (the pusher), matched to catalog Users like the authors.
 */
export async function commitFacts(
  d: Pick<ReconcileDeps, 'commits' | 'stores'>, stack: string, commit: string | undefined, also: (string | undefined)[] = [],
): Promise<FactsAndAuthors | undefined> {
  const port = d.commits;
  if (!port || !commit) return undefined;
  const summary = await d.stores.runs.stack(stack);
  // A commit applied from elsewhere (the archetypes folder, another repository) is no base here.
  const applied = summary?.lastAppliedSource === port.repoId ? summary.lastAppliedCommit : undefined;
  const read = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      const name = (err as Error).name;
      throw new RunFailure(name === 'GitRefNotFoundError' ? 'COMMIT_NOT_FOUND' : 'GIT_HOST_UNAVAILABLE', `reading ${what}: ${(err as Error).message}`, err);
    }
  };
  // The commit itself, always: its author may not approve, even when the list below is cut short.
  const own = await read(`commit ${commit.slice(0, 12)}`, () => port.history(undefined, commit));
  let cmp = own;
  if (applied === commit) cmp = { ...own, status: 'identical' };
  else if (applied) cmp = await read(`the commits ${applied.slice(0, 12)}..${commit.slice(0, 12)}`, () => port.history(applied, commit));
  // Only what is on the tracked branch is applied: not a pull request's head, not a commit a force push dropped.
  const head = await read('the tracked branch', () => port.head());
  const onBranch = head === commit || (await read(`${commit.slice(0, 12)}..the branch head`, () => port.history(commit, head))).status === 'ahead';

  const all = [...cmp.commits, ...own.commits.filter((c) => !cmp.commits.some((x) => x.sha === c.sha))];
  const commits = await Promise.all(cmp.commits.map(async (c) => ({
    sha: c.sha, author: person(c.author),
    verdict: port.requireSigned ? await port.verify(c) : undefined,
  })));
  const authors = [...new Set(all.map((c) => person(c.author)))];
  // Committers too: whoever rebased or cherry-picked a change wrote what is applied as much as its author.
  const committers = all.map((c) => person(c.committer)).filter((p) => !authors.includes(p));
  const logins = all.map((c) => c.authorLogin).filter((x): x is string => !!x);
  let ids = identities(...authors, ...committers, ...logins, ...also);
  if (port.aliases && ids.length) ids = [...new Set([...ids, ...(await port.aliases(ids))])];
  return {
    facts: { applied, commit, ancestry: cmp.status, onBranch, commits, truncated: cmp.truncated, requireSigned: port.requireSigned },
    authors,
    identities: ids,
  };
}

// Who wrote the commits a run comes from: the two-person rule never lets them approve it.
import type { ReconcileDeps } from './deps.ts';
import { identities } from './gates/approvals.ts';
import type { CommitAuthor } from './tracked-commit.ts';

export interface RunAuthors {
  author?: string;
  source?: 'git' | 'hint';
  /** Identities that may not approve the run's changes; empty when nobody is known. */
  identities: string[];
}

export class CommitAuthors {
  /**
   * Commits do not change: their authors are read from Git once. Only found authors are kept: a
   * lookup that failed (error, timeout, commit not fetched yet) is tried again by the next run.
   */
  private readonly cache = new Map<string, Promise<CommitAuthor | undefined>>();

  constructor(private readonly deps: Pick<ReconcileDeps, 'commitAuthor'>) {}

  /**
   * The author(s) of the commit the desired state comes from (the checkout's) and of the commit
   * the trigger named, from Git. The caller's hint counts only when Git knows neither.
   */
  async of(commits: (string | undefined)[], hint: string | undefined): Promise<RunAuthors> {
    const found: CommitAuthor[] = [];
    const lookup = this.deps.commitAuthor;
    for (const c of new Set(commits.filter((x): x is string => !!x).map((x) => x.replace(/\+dirty$/, '')))) {
      if (!lookup) break;
      let p = this.cache.get(c);
      if (!p) {
        p = lookup(c).catch(() => undefined);
        this.cache.set(c, p);
        // Dropped again once it turns out empty (runs already waiting on it share the result).
        void p.then((a) => { if (!a && this.cache.get(c) === p) this.cache.delete(c); });
      }
      const a = await p;
      if (a && !found.some((f) => f.name === a.name && f.email.toLowerCase() === a.email.toLowerCase())) found.push(a);
    }
    if (found.length > 0) {
      return {
        author: found.map((a) => (a.email ? `${a.name} <${a.email}>` : a.name)).join('; '), source: 'git',
        identities: identities(...found.flatMap((a) => [a.name, a.email])),
      };
    }
    if (hint?.trim()) return { author: hint.trim(), source: 'hint', identities: identities(hint) };
    return { identities: [] };
  }
}

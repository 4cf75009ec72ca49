// Pull request reviews as an approval source for the two-person rule: an `approved` review
// (GitHub) or a vote of 10 (ADO) by a known catalog User counts for an approval request whose
// commit is the merge commit of that pull request, but only when it was given on the head that
// was merged (code pushed after the review was not approved) and when the merge's base is the
// commit the stack last applied (so nothing unreviewed rides along: a direct push before the
// merge, another pull request's changes). A fast-forward or rebase merge gives no votes: which of
// its commits were reviewed cannot be told apart.
//
// Table `prreviews`: partition `pr:<repo>#<n>` holds the pull request's row (`~pr`: its head and
// merge commit) and one row per reviewer (`r:<login>`: their latest review); partition `commit`
// maps a merged pull request's merge and head commits back to it.
import type { StorageConfig } from '../platform/storage-config.ts';
import { Table } from '../platform/tables.ts';
import { REVIEW_SOURCE, type ApprovalSource } from '../reconcile/store/approvals.ts';
import type { ApprovalRecord, ApprovalVote } from '../reconcile/gates/types.ts';
import type { PullRequestEvent, ReviewEvent } from './types.ts';
import type { UserDirectory } from './users.ts';

export { REVIEW_SOURCE };

interface ReviewRow { login: string; email?: string; state: ReviewEvent['state']; commit?: string; at: string }
interface PullRow { repo: string; number: number; headSha: string; merged: boolean; mergeCommitSha?: string }
interface CommitRow { repo: string; number: number }
type StoredRow = Partial<ReviewRow & PullRow & CommitRow>;

const PR_ROW = '~pr';
const COMMITS = 'commit';
const prKey = (repo: string, n: number) => `pr:${repo}#${n}`;

export class PullRequestReviews implements ApprovalSource {
  readonly name = REVIEW_SOURCE;

  private constructor(
    private readonly table: Table<StoredRow>, private readonly users: UserDirectory, private readonly parentsOf: (sha: string) => Promise<string[]>,
    private readonly now: () => Date,
  ) {}

  /** `parentsOf`: a commit's parents from the Git host (the merge commit's first parent is the base it merged into). */
  static async open(cfg: StorageConfig, users: UserDirectory, parentsOf: (sha: string) => Promise<string[]>, opts: { table?: string; now?: () => Date } = {}): Promise<PullRequestReviews> {
    return new PullRequestReviews(await Table.open<StoredRow>(opts.table ?? 'prreviews', cfg), users, parentsOf, opts.now ?? (() => new Date()));
  }

  /**
   * Keeps a reviewer's latest review. A plain comment changes nothing (on GitHub it neither gives
   * nor withdraws an approval); changes requested or a dismissal withdraws theirs.
   */
  async onReview(ev: ReviewEvent): Promise<void> {
    if (ev.state === 'commented' || !ev.login.trim()) return;
    const row: ReviewRow = { login: ev.login, email: ev.email, state: ev.state, commit: ev.commit, at: this.now().toISOString() };
    await this.table.upsert(prKey(ev.repo, ev.number), `r:${ev.login.trim().toLowerCase()}`, row);
  }

  /** Follows the pull request's head; once merged, maps its merge and head commits back to it. */
  async onPullRequest(ev: PullRequestEvent): Promise<void> {
    const pull: PullRow = { repo: ev.repo, number: ev.number, headSha: ev.headSha, merged: ev.merged, mergeCommitSha: ev.mergeCommitSha };
    // A merged pull request's head is final: a late delivery of an earlier event does not move it.
    await this.table.update(prKey(ev.repo, ev.number), PR_ROW, (cur) => (cur?.merged ? undefined : pull));
    if (!ev.merged) return;
    const link: CommitRow = { repo: ev.repo, number: ev.number };
    for (const sha of new Set([ev.mergeCommitSha, ev.headSha].filter((s): s is string => !!s))) {
      await this.table.upsert(COMMITS, sha.toLowerCase(), link);
    }
  }

  /**
   * Votes for a request whose commit a merged pull request produced: approvals given on the head
   * that was merged, by reviewers the catalog knows (their teams are the vote's groups). Who may
   * not approve (the commits' authors) is left to the request's own exclusions.
   */
  async votes(request: ApprovalRecord): Promise<ApprovalVote[]> {
    if (!request.commit) return [];
    const link = await this.table.get(COMMITS, request.commit.toLowerCase());
    if (!link?.repo || link.number === undefined) return [];
    const pull = await this.table.get(prKey(link.repo, link.number), PR_ROW);
    if (!pull?.headSha || !pull.mergeCommitSha || pull.mergeCommitSha.toLowerCase() !== request.commit.toLowerCase()) return [];
    // Only the pull request's own changes are new since the applied commit.
    const base = (await this.parentsOf(pull.mergeCommitSha))[0];
    if (!request.appliedCommit || !base || base.toLowerCase() !== request.appliedCommit.toLowerCase()) return [];
    const out: ApprovalVote[] = [];
    for await (const r of this.table.query({ partitionKey: prKey(link.repo, link.number) })) {
      if (r.rowKey === PR_ROW || r.state !== 'approved' || !r.commit || !r.login) continue;
      if (r.commit.toLowerCase() !== pull.headSha.toLowerCase()) continue;
      // ADO names reviewers by unique name, often their e-mail.
      const user = this.users.byLogin(r.login) ?? this.users.byEmail(r.email ?? (r.login.includes('@') ? r.login : ''));
      if (!user) continue;
      out.push({ by: user.email ?? user.ref, name: user.name, groups: user.groups, at: r.at ?? this.now().toISOString(), source: REVIEW_SOURCE });
    }
    return out;
  }
}

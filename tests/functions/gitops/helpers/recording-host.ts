// An in-memory GitHost that records what Nexus posts: the comments of each pull request (found
// again by their marker, as the real adapters do) and every check report, in order. The real
// GitHub stand-in is exercised by the end-to-end test; here the port is the boundary.
import type { CheckReport, CommitInfo, Comparison, GitHost, PullRequestInfo, Review } from '../../../../functions/platform/git-host/types.ts';

export interface RecordedComment { id: string; pr: number; body: string; edits: number }

export class RecordingHost implements GitHost {
  readonly repo = { provider: 'github' as const, owner: 'contoso', repo: 'landing-zones' };
  readonly id = 'github:contoso/landing-zones';
  readonly comments: RecordedComment[] = [];
  readonly checks: Array<{ pr: number } & CheckReport> = [];
  readonly branches = new Map<string, string>();
  /** Authors of the commits `compare` lists. */
  commits: CommitInfo[] = [];
  private nextId = 1;

  async branchHead(branch: string): Promise<string | undefined> { return this.branches.get(branch); }
  async download(): Promise<{ files: number; bytes: number }> { throw new Error('not used'); }
  async commit(sha: string): Promise<CommitInfo> { return this.commits.find((c) => c.sha === sha) ?? Promise.reject(new Error(`no commit ${sha}`)); }
  async compare(): Promise<Comparison> { return { status: 'ahead', commits: this.commits, truncated: false }; }
  async pullRequest(): Promise<PullRequestInfo> { throw new Error('not used'); }
  async reviews(): Promise<Review[]> { return []; }
  async commitFiles(): Promise<string> { throw new Error('not used'); }
  async findPullRequest(): Promise<PullRequestInfo | undefined> { throw new Error('not used'); }
  async openPullRequest(): Promise<PullRequestInfo> { throw new Error('not used'); }
  async updatePullRequest(): Promise<PullRequestInfo> { throw new Error('not used'); }

  async upsertComment(pr: number, marker: string, body: string): Promise<{ id: string; created: boolean }> {
    // Yield like a network call, so concurrent posts interleave when they are not serialised.
    await new Promise((r) => setTimeout(r, 5));
    const found = this.comments.find((c) => c.pr === pr && c.body.includes(marker));
    if (found) {
      found.body = body;
      found.edits++;
      return { id: found.id, created: false };
    }
    await new Promise((r) => setTimeout(r, 5));
    const c = { id: String(this.nextId++), pr, body, edits: 0 };
    this.comments.push(c);
    return { id: c.id, created: true };
  }

  async report(pr: number, check: CheckReport): Promise<void> {
    this.checks.push({ pr, ...check });
  }

  commentsOf(pr: number): RecordedComment[] { return this.comments.filter((c) => c.pr === pr); }
  checksOf(pr: number): Array<{ pr: number } & CheckReport> { return this.checks.filter((c) => c.pr === pr); }
}

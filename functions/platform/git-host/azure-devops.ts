// The GitHost port over Azure DevOps Repos, through azure-devops-node-api: refs, commits, the items
// zip of a folder at a commit, commit diffs (ahead/behind) for ancestry, pull requests, one comment
// thread found again by a thread property, pull request statuses and reviewer votes.
// Authentication: a PAT, or a Microsoft Entra token (managed identity) for Azure DevOps's resource.
import type { TokenCredential } from '@azure/core-auth';
import * as azdev from 'azure-devops-node-api';
import type { IGitApi } from 'azure-devops-node-api/GitApi.js';
import * as GI from 'azure-devops-node-api/interfaces/GitInterfaces.js';
import type { IncomingMessage } from 'node:http';
import { ArchiveRefusedError } from './archive.ts';
import { extractZip } from './azure-devops-zip.ts';
import * as writes from './azure-devops-writes.ts';
import {
  GitHostUnavailableError, GitRefNotFoundError,
  type CheckReport, type CommitFilesRequest, type CommitInfo, type Comparison, type GitHost, type GitPerson, type PullRequestInfo,
  type PullRequestUpdate, type RepoRef, type Review, type SnapshotLimits,
} from './types.ts';

/** Azure DevOps's Entra resource; `.default` asks for the permissions granted to the identity. */
export const AZURE_DEVOPS_SCOPE = '499b84ac-1321-427f-aa17-267ca6975798/.default';
/** The thread property whose value is the comment marker (how the one Nexus thread is found again). */
export const THREAD_MARKER_PROPERTY = 'nexus.marker';

export type AzureDevOpsRepo = Extract<RepoRef, { provider: 'azure-devops' }>;

export interface AzureDevOpsHostOptions {
  repo: AzureDevOpsRepo;
  /** The service root, https://dev.azure.com (NEXUS_ADO_URL); the organisation is appended. */
  baseUrl: string;
  /** A personal access token (NEXUS_ADO_PAT), or ... */
  pat?: string;
  /** ... a credential for AZURE_DEVOPS_SCOPE (the Function App's managed identity). */
  credential?: TokenCredential;
  /** Socket timeout per request (ms). */
  timeoutMs?: number;
}

export class AzureDevOpsHost implements GitHost {
  readonly repo: AzureDevOpsRepo;
  readonly id: string;
  private readonly orgUrl: string;
  private client?: { token: string; api: Promise<IGitApi> };

  constructor(private readonly opts: AzureDevOpsHostOptions) {
    if (!opts.pat && !opts.credential) throw new Error('Azure DevOps needs a PAT (NEXUS_ADO_PAT) or a managed identity');
    this.repo = opts.repo;
    this.id = `azure-devops:${opts.repo.org}/${opts.repo.project}/${opts.repo.repo}`;
    this.orgUrl = `${opts.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(opts.repo.org)}`;
  }

  /** The Git client; rebuilt when the Entra token changes (its handler holds one token). */
  private async git(): Promise<IGitApi> {
    const token = this.opts.pat ?? (await this.entraToken());
    if (this.client?.token !== token) {
      const handler = this.opts.pat ? azdev.getPersonalAccessTokenHandler(token) : azdev.getBearerHandler(token);
      const web = new azdev.WebApi(this.orgUrl, handler, { socketTimeout: this.opts.timeoutMs ?? 30_000, allowRetries: false });
      const api = web.getGitApi();
      this.client = { token, api };
      api.catch(() => {
        if (this.client?.api === api) this.client = undefined;
      });
    }
    return this.client.api;
  }

  private async entraToken(): Promise<string> {
    let t;
    try {
      t = await this.opts.credential!.getToken(AZURE_DEVOPS_SCOPE);
    } catch (err) {
      throw new GitHostUnavailableError(`no token for Azure DevOps: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (!t) throw new GitHostUnavailableError('no token for Azure DevOps');
    return t.token;
  }

  /** Runs one call, mapping throttling, outages and 404s to the port's errors. */
  private async call<T>(what: string, fn: (git: IGitApi) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.git());
    } catch (err) {
      throw mapError(err, what);
    }
  }

  async branchHead(branch: string): Promise<string | undefined> {
    const name = `refs/heads/${branch}`;
    const refs = await this.call(`branch ${branch}`, (g) => g.getRefs(this.repo.repo, this.repo.project, `heads/${branch}`));
    if (!refs) throw new GitRefNotFoundError(branch, `no repository ${this.id}`);
    // The filter is a prefix: heads/main also matches heads/main-old.
    return refs.find((r) => r.name === name)?.objectId;
  }

  async commit(sha: string): Promise<CommitInfo> {
    const c = await this.call(`commit ${sha}`, (g) => g.getCommit(sha, this.repo.repo, this.repo.project));
    if (!c?.commitId) throw new GitRefNotFoundError(sha);
    return commitInfo(c);
  }

  async compare(base: string, head: string, limit = 250): Promise<Comparison> {
    const diffs = await this.call(`compare ${base}...${head}`, (g) => g.getCommitDiffs(
      this.repo.repo, this.repo.project, true, 1, 0,
      { version: base, versionType: GI.GitVersionType.Commit },
      { version: head, versionType: GI.GitVersionType.Commit },
    ));
    if (!diffs) throw new GitRefNotFoundError(`${base}...${head}`);
    const ahead = diffs.aheadCount ?? 0;
    const behind = diffs.behindCount ?? 0;
    const status = ahead === 0 && behind === 0 ? 'identical' : behind === 0 ? 'ahead' : ahead === 0 ? 'behind' : 'diverged';
    if (ahead === 0) return { status, commits: [], truncated: false };
    // ADO documents compareVersion as where the history walk starts; should a server read the two the
    // other way round, the list lacks head: ask the other way once, and refuse if it still does.
    let list = await this.between(base, head, Math.min(limit, ahead), false);
    if (!hasCommit(list, head)) list = await this.between(base, head, Math.min(limit, ahead), true);
    if ((/^[0-9a-f]{40}$/i.test(head) && !hasCommit(list, head)) || hasCommit(list, base)) {
      throw new Error(`Azure DevOps listed commits for ${base}..${head} that are not that range`);
    }
    const commits: CommitInfo[] = [];
    for (const c of list.slice().reverse()) {
      // Listed commits may carry a shortened message or no parents: read those in full.
      commits.push(c.commentTruncated || !c.parents || !c.author ? await this.commit(c.commitId!) : commitInfo(c));
    }
    return { status, commits, truncated: commits.length < ahead };
  }

  /** Commits reachable from head and not from base, newest first (getCommits with item/compare versions). */
  private async between(base: string, head: string, top: number, swapped: boolean): Promise<GI.GitCommitRef[]> {
    const [item, compare] = swapped ? [head, base] : [base, head];
    const listed = await this.call(`commits ${base}..${head}`, (g) => g.getCommits(this.repo.repo, {
      itemVersion: { version: item, versionType: GI.GitVersionType.Commit },
      compareVersion: { version: compare, versionType: GI.GitVersionType.Commit },
      $top: top,
    }, this.repo.project));
    return listed ?? [];
  }

  async download(commit: string, path: string, dir: string, limits: SnapshotLimits): Promise<{ files: number; bytes: number }> {
    const folder = path.replace(/^\/+|\/+$/g, '');
    const stream = await this.call(`items of ${commit}`, (g) => g.getItemZip(
      this.repo.repo, `/${folder}`, this.repo.project, undefined, GI.VersionControlRecursionType.Full,
      undefined, undefined, true, { version: commit, versionType: GI.GitVersionType.Commit },
    ));
    // Typed as a stream; it is the IncomingMessage (status and headers included).
    const res = checkZipResponse(stream as unknown as IncomingMessage, commit);
    const body = cappedBody(res, commit, limits);
    try {
      return await extractZip(body.chunks(), dir, { stripComponents: 0, path: folder, limits });
    } catch (e) {
      if (e instanceof ArchiveRefusedError) throw new ArchiveRefusedError(e.entry, e.reason, `${this.id} at ${commit}`);
      if (body.broken()) throw new GitHostUnavailableError(`the items zip of ${commit} was cut off`, { cause: e });
      throw e;
    }
  }

  async pullRequest(n: number): Promise<PullRequestInfo> {
    const pr = await this.call(`pull request ${n}`, (g) => g.getPullRequestById(n, this.repo.project));
    if (!pr || !this.isOurs(pr)) throw new GitRefNotFoundError(`pull request ${n}`, `no pull request ${n} in ${this.id}`);
    const state = pr.status === GI.PullRequestStatus.Completed ? 'merged' : pr.status === GI.PullRequestStatus.Abandoned ? 'closed' : 'open';
    return {
      number: pr.pullRequestId ?? n,
      state,
      draft: pr.isDraft === true,
      headRef: branchOf(pr.sourceRefName),
      baseRef: branchOf(pr.targetRefName),
      headSha: pr.lastMergeSourceCommit?.commitId ?? '',
      ...(state === 'merged' && pr.lastMergeCommit?.commitId ? { mergeCommitSha: pr.lastMergeCommit.commitId } : {}),
      title: pr.title ?? '',
      url: `${this.orgUrl}/${encodeURIComponent(this.repo.project)}/_git/${encodeURIComponent(this.repo.repo)}/pullrequest/${n}`,
    };
  }

  async upsertComment(pr: number, marker: string, body: string): Promise<{ id: string; created: boolean }> {
    const threads = await this.call(`threads of pull request ${pr}`, (g) => g.getThreads(this.repo.repo, pr, this.repo.project));
    if (!threads) throw new GitRefNotFoundError(`pull request ${pr}`);
    const mine = threads.find((t) => propertyValue(t.properties, THREAD_MARKER_PROPERTY) === marker && !t.isDeleted);
    const first = mine?.comments?.find((c) => !c.parentCommentId && !c.isDeleted) ?? mine?.comments?.[0];
    if (mine?.id !== undefined && first?.id !== undefined) {
      await this.call(`comment of pull request ${pr}`, (g) => g.updateComment({ content: body }, this.repo.repo, pr, mine.id!, first.id!, this.repo.project));
      return { id: String(mine.id), created: false };
    }
    const created = await this.call(`thread on pull request ${pr}`, (g) => g.createThread({
      comments: [{ parentCommentId: 0, content: body, commentType: GI.CommentType.Text }],
      // Closed: informational, so a "resolve all comments" branch policy never waits on it.
      status: GI.CommentThreadStatus.Closed,
      properties: { [THREAD_MARKER_PROPERTY]: { $type: 'System.String', $value: marker } },
    }, this.repo.repo, pr, this.repo.project));
    if (created?.id === undefined) throw new GitRefNotFoundError(`pull request ${pr}`);
    return { id: String(created.id), created: true };
  }

  async report(pr: number, check: CheckReport): Promise<void> {
    const slash = check.name.lastIndexOf('/');
    const context = slash > 0 ? { genre: check.name.slice(0, slash), name: check.name.slice(slash + 1) } : { name: check.name };
    await this.call(`status of pull request ${pr}`, (g) => g.createPullRequestStatus({
      state: statusState(check.conclusion),
      // ADO shows the description beside the status; it has no room for the summary.
      description: check.title.slice(0, 256),
      context,
      ...(check.detailsUrl ? { targetUrl: check.detailsUrl } : {}),
    }, this.repo.repo, pr, this.repo.project));
  }

  async reviews(pr: number): Promise<Review[]> {
    const reviewers = await this.call(`reviewers of pull request ${pr}`, (g) => g.getPullRequestReviewers(this.repo.repo, pr, this.repo.project));
    if (!reviewers) throw new GitRefNotFoundError(`pull request ${pr}`);
    const out: Review[] = [];
    for (const r of reviewers) {
      // Groups vote through their members; a vote of 0 is no review yet.
      if (r.isContainer || !r.vote) continue;
      const login = r.uniqueName ?? r.id ?? '';
      if (!login) continue;
      out.push({
        login,
        ...(r.uniqueName?.includes('@') ? { email: r.uniqueName } : r.displayName ? { email: r.displayName } : {}),
        state: r.vote === 10 ? 'approved' : r.vote <= -5 ? 'changes_requested' : 'commented',
      });
    }
    return out;
  }

  private readonly run: writes.AdoCall = (what, fn) => this.call(what, fn);

  async commitFiles(req: CommitFilesRequest): Promise<string> {
    return writes.commitFiles(this.run, this.repo, req, await this.branchHead(req.branch));
  }

  findPullRequest(q: { head: string; state: 'open' | 'all' }): Promise<PullRequestInfo | undefined> {
    return writes.findPullRequest(this.run, this.orgUrl, this.repo, q);
  }

  openPullRequest(req: { head: string; base: string; title: string; body: string }): Promise<PullRequestInfo> {
    return writes.openPullRequest(this.run, this.orgUrl, this.repo, req);
  }

  updatePullRequest(n: number, change: PullRequestUpdate): Promise<PullRequestInfo> {
    return writes.updatePullRequest(this.run, this.orgUrl, this.repo, n, change);
  }

  private isOurs(pr: GI.GitPullRequest): boolean {
    const name = pr.repository?.name;
    return !name || name.toLowerCase() === this.repo.repo.toLowerCase();
  }
}

/**
 * CheckConclusion → GitStatusState. Neutral (needs approval) is notApplicable: the approval is
 * collected before apply, so a branch policy requiring nexus/preview must not block the merge on it.
 */
export function statusState(c: CheckReport['conclusion']): GI.GitStatusState {
  if (c === 'success') return GI.GitStatusState.Succeeded;
  if (c === 'failure') return GI.GitStatusState.Failed;
  if (c === 'neutral') return GI.GitStatusState.NotApplicable;
  return GI.GitStatusState.Pending;
}

function hasCommit(list: GI.GitCommitRef[], sha: string): boolean {
  return list.some((c) => c.commitId?.toLowerCase() === sha.toLowerCase());
}

function branchOf(ref: string | undefined): string {
  return (ref ?? '').replace(/^refs\/heads\//, '');
}

function person(p: GI.GitUserDate | undefined): GitPerson {
  const d = p?.date as Date | string | undefined;
  return { name: p?.name ?? '', email: p?.email ?? '', ...(d ? { date: d instanceof Date ? d.toISOString() : String(d) } : {}) };
}

function commitInfo(c: GI.GitCommitRef): CommitInfo {
  return { sha: c.commitId ?? '', parents: c.parents ?? [], author: person(c.author), committer: person(c.committer), message: c.comment ?? '' };
}

/** Thread properties come back as `{ key: { $type, $value } }`. */
function propertyValue(props: unknown, key: string): unknown {
  if (!props || typeof props !== 'object' || !Object.hasOwn(props, key)) return undefined;
  const v = (props as Record<string, unknown>)[key];
  return v && typeof v === 'object' && Object.hasOwn(v, '$value') ? (v as { $value: unknown }).$value : v;
}

interface HttpFailure { statusCode?: number; code?: string; message?: string; rateLimit?: { retryAfter?: number } }

function mapError(err: unknown, what: string): unknown {
  if (err instanceof GitHostUnavailableError || err instanceof GitRefNotFoundError) return err;
  const e = (err ?? {}) as HttpFailure;
  const status = e.statusCode;
  const retryAfterSeconds = Number.isFinite(e.rateLimit?.retryAfter) ? e.rateLimit!.retryAfter : undefined;
  if (status === 404) return new GitRefNotFoundError(what, `Azure DevOps: ${what} not found`);
  // TF401175: a version descriptor (commit, branch) that does not resolve is a missing ref, whatever the status.
  if (status === 400 && /TF401175|could not be resolved/i.test(e.message ?? '')) return new GitRefNotFoundError(what, `Azure DevOps: ${e.message}`);
  if (status === 429 || (status !== undefined && status >= 500) || (status === 403 && retryAfterSeconds !== undefined)) {
    return new GitHostUnavailableError(`Azure DevOps answered ${status} for ${what}`, { retryAfterSeconds, cause: err });
  }
  if (status === undefined && (typeof e.code === 'string' || /socket|timeout|ECONN|ENOTFOUND|EAI_AGAIN/i.test(e.message ?? ''))) {
    return new GitHostUnavailableError(`Azure DevOps unreachable for ${what}: ${e.message ?? e.code}`, { cause: err });
  }
  return err;
}

/** The zip response, once its status says it is one; throws the host's errors otherwise. */
function checkZipResponse(res: IncomingMessage, commit: string): IncomingMessage {
  const status = res.statusCode ?? 0;
  if (status === 404) {
    res.resume();
    throw new GitRefNotFoundError(commit, `Azure DevOps has no folder at ${commit}`);
  }
  if (status === 429 || status >= 500 || status === 403) {
    res.resume();
    const after = Number.parseInt(String(res.headers['retry-after'] ?? ''), 10);
    if (status !== 403 || Number.isFinite(after)) {
      throw new GitHostUnavailableError(`Azure DevOps answered ${status} for the items of ${commit}`, { retryAfterSeconds: Number.isFinite(after) ? after : undefined });
    }
  }
  if (status < 200 || status > 299) {
    res.resume();
    throw new Error(`Azure DevOps answered ${status} for the items of ${commit}`);
  }
  return res;
}

/** The response's chunks, refusing bodies that cannot fit the limits even compressed; broken(): the connection failed. */
function cappedBody(res: IncomingMessage, commit: string, limits: SnapshotLimits): { chunks(): AsyncGenerator<Uint8Array>; broken(): boolean } {
  // Stored (uncompressed) entries are a little larger than their content: headers per file.
  const cap = limits.maxBytes + limits.maxFiles * 1024 + 64 * 1024;
  let failed = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let size = 0;
    try {
      for await (const chunk of res) {
        size += (chunk as Buffer).length;
        if (size > cap) throw new ArchiveRefusedError(undefined, `the items zip of ${commit} is larger than ${cap} bytes`);
        yield chunk as Buffer;
      }
    } catch (err) {
      if (!(err instanceof ArchiveRefusedError)) failed = true;
      throw err;
    } finally {
      // Stopped early (refused, or the extraction failed): drop the connection.
      if (!res.readableEnded) res.destroy();
    }
  }
  return { chunks, broken: () => failed };
}

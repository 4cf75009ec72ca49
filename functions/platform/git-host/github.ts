// The GitHost port over GitHub's REST API with Octokit: a token, or a GitHub App's installation
// token (@octokit/auth-app mints and renews it), against github.com or a stand-in (baseUrl).
// Every failure leaves as the port's errors (github-errors.ts); tokens never appear in messages.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { ArchiveRefusedError } from './archive.ts';
import { GitHubRequestError, mapGitHubError } from './github-errors.ts';
import { extractTarball } from './tarball.ts';
import * as writes from './github-writes.ts';
import {
  GitHostUnavailableError,
  type Ancestry, type CheckReport, type CommitInfo, type Comparison, type GitHost, type GitPerson,
  type CommitFilesRequest, type PullRequestInfo, type PullRequestUpdate, type RepoRef, type Review, type SnapshotLimits,
} from './types.ts';

export type GitHubAuth =
  | { token: string }
  | { app: { appId: number | string; privateKey: string; installationId?: number | string } };

export interface GitHubClientConfig {
  auth?: GitHubAuth;
  /** REST API root; https://api.github.com when absent (GitHub Enterprise: https://host/api/v3). */
  baseUrl?: string;
  /** The fetch Octokit uses (tests, proxies); the global one when absent. */
  fetch?: typeof globalThis.fetch;
}

const USER_AGENT = 'nexus-gitops';
const REQUEST_TIMEOUT_MS = 30_000;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/** GitHub rejects check run output fields over 65,535 characters; the renderer keeps under it, this is a last guard. */
const CHECK_TEXT_MAX = 65_535;
const QUIET = { debug: () => {}, info: () => {}, warn: (m: string) => console.warn(m), error: () => {} };
const REVIEW_STATES: ReadonlySet<string> = new Set(['approved', 'changes_requested', 'commented', 'dismissed']);

type Raw = Record<string, any>;

function person(p: Raw | null | undefined): GitPerson {
  return { name: String(p?.name ?? ''), email: String(p?.email ?? ''), ...(p?.date ? { date: String(p.date) } : {}) };
}

/** A REST "commit" object (GET commits/{sha}, and each of compare's commits) → CommitInfo. */
export function commitInfo(c: Raw): CommitInfo {
  const v = c.commit?.verification;
  const login = c.author && typeof c.author.login === 'string' ? c.author.login : undefined;
  return {
    sha: String(c.sha),
    parents: Array.isArray(c.parents) ? c.parents.map((p: Raw) => String(p.sha)) : [],
    author: person(c.commit?.author),
    committer: person(c.commit?.committer),
    message: String(c.commit?.message ?? ''),
    ...(login ? { authorLogin: login } : {}),
    // GitHub's own `verified` is not trusted: Nexus verifies payload and signature itself.
    ...(typeof v?.payload === 'string' && typeof v?.signature === 'string' && v.signature !== ''
      ? { signed: { payload: v.payload, signature: v.signature } }
      : {}),
  };
}

function clip(s: string | undefined): string | undefined {
  if (s === undefined || s.length <= CHECK_TEXT_MAX) return s;
  const note = '\n\n… (cut at GitHub\'s 65,535-character limit)';
  return s.slice(0, CHECK_TEXT_MAX - note.length) + note;
}

/** NEXUS_GITHUB_APP_INSTALLATION_ID arrives as text; undefined means "look it up". */
function installationIdOf(cfg: GitHubClientConfig): number | undefined {
  const raw = cfg.auth && 'app' in cfg.auth ? cfg.auth.app.installationId : undefined;
  if (raw === undefined || raw === '') return undefined;
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`the GitHub App installation id must be a positive integer, got '${String(raw).slice(0, 40)}'`);
  return id;
}

function hasNextPage(link: string | undefined): boolean {
  return !!link && /<[^>]*>;\s*rel="next"/.test(link);
}

export class GitHubHost implements GitHost {
  readonly repo: RepoRef;
  readonly id: string;
  private readonly r: { owner: string; repo: string };
  private client?: Promise<Octokit>;
  /** Who Nexus writes as (token: its user; App: `<slug>[bot]`), looked up once; undefined when it cannot be told. */
  private self?: Promise<string | undefined>;

  constructor(repo: { owner: string; repo: string }, private readonly source: Octokit | GitHubClientConfig = {}) {
    this.r = { owner: repo.owner, repo: repo.repo };
    this.repo = { provider: 'github', ...this.r };
    this.id = `github:${repo.owner}/${repo.repo}`;
    if (typeof (source as Octokit).request !== 'function') installationIdOf(source as GitHubClientConfig); // checked now, not at the first call
  }

  private octokit(): Promise<Octokit> {
    // Built on first use (an App without installationId looks it up), again after a failed build.
    this.client ??= this.build().catch((e) => {
      this.client = undefined;
      throw mapGitHubError(e, `GET /repos/${this.r.owner}/${this.r.repo}/installation`);
    });
    return this.client;
  }

  private async build(): Promise<Octokit> {
    const src = this.source;
    if (typeof (src as Octokit).request === 'function') return src as Octokit;
    const cfg = src as GitHubClientConfig;
    // Octokit would print every failed request; the port's errors say it once, to the caller.
    const base = {
      userAgent: USER_AGENT,
      log: QUIET,
      ...(cfg.baseUrl ? { baseUrl: cfg.baseUrl.replace(/\/+$/, '') } : {}),
      ...(cfg.fetch ? { request: { fetch: cfg.fetch } } : {}),
    };
    if (!cfg.auth) return new Octokit(base);
    if ('token' in cfg.auth) return new Octokit({ ...base, auth: cfg.auth.token });
    const { appId, privateKey } = cfg.auth.app;
    let installationId = installationIdOf(cfg);
    if (installationId === undefined) {
      // As the App (a JWT): which installation covers the landing-zone repository.
      const asApp = new Octokit({ ...base, authStrategy: createAppAuth, auth: { appId, privateKey } });
      const res = await asApp.request('GET /repos/{owner}/{repo}/installation', { ...this.r, request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) } });
      installationId = res.data.id;
    }
    return new Octokit({ ...base, authStrategy: createAppAuth, auth: { appId, privateKey, installationId } });
  }

  /** Runs one request (or a paginated series); `ref` makes a 404 a GitRefNotFoundError. */
  private async call<T>(what: string, ref: string | undefined, fn: (o: Octokit, signal: AbortSignal) => Promise<T>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const o = await this.octokit();
    try {
      return await fn(o, AbortSignal.timeout(timeoutMs));
    } catch (e) {
      throw mapGitHubError(e, what, ref);
    }
  }

  private path(rest: string): string {
    return `/repos/${this.r.owner}/${this.r.repo}${rest}`;
  }

  async branchHead(branch: string): Promise<string | undefined> {
    try {
      return await this.call(`GET ${this.path(`/branches/${branch}`)}`, undefined, async (o, signal) => {
        const res = await o.request('GET /repos/{owner}/{repo}/branches/{branch}', { ...this.r, branch, request: { signal } });
        return res.data.commit.sha;
      });
    } catch (e) {
      // Only GitHub's "Branch not found" means no branch; a bare 404 is a repository the token
      // cannot see, which must not read as "the branch was deleted".
      if (e instanceof GitHubRequestError && e.status === 404 && /branch not found/i.test(e.githubMessage ?? '')) return undefined;
      throw e;
    }
  }

  async commit(sha: string): Promise<CommitInfo> {
    // One request: commits/{sha} carries the login and the verification's payload and signature.
    return this.call(`GET ${this.path(`/commits/${sha}`)}`, sha, async (o, signal) => {
      const res = await o.request('GET /repos/{owner}/{repo}/commits/{ref}', { ...this.r, ref: sha, request: { signal } });
      return commitInfo(res.data as Raw);
    });
  }

  async compare(base: string, head: string, limit = 250): Promise<Comparison> {
    const basehead = `${base}...${head}`;
    return this.call(`GET ${this.path(`/compare/${basehead}`)}`, basehead, async (o, signal) => {
      const commits: CommitInfo[] = [];
      let status: Ancestry = 'identical';
      let total = 0;
      const perPage = Math.min(100, Math.max(1, limit));
      for (let page = 1; ; page++) {
        const res = await o.request('GET /repos/{owner}/{repo}/compare/{basehead}', { ...this.r, basehead, per_page: perPage, page, request: { signal } });
        status = res.data.status;
        total = res.data.total_commits;
        for (const c of res.data.commits) commits.push(commitInfo(c as Raw));
        if (commits.length >= limit || commits.length >= total || res.data.commits.length === 0 || !hasNextPage(res.headers.link)) break;
      }
      const kept = commits.slice(0, limit);
      return { status, commits: kept, truncated: total > kept.length };
    });
  }

  async download(commit: string, path: string, dir: string, limits: SnapshotLimits): Promise<{ files: number; bytes: number }> {
    const what = `GET ${this.path(`/tarball/${commit}`)}`;
    const body = await this.call(what, commit, async (o, signal) => {
      // Not parsed: the (redirected) archive is streamed into the extractor, never buffered whole.
      const res = await o.request('GET /repos/{owner}/{repo}/tarball/{ref}', { ...this.r, ref: commit, request: { parseSuccessResponseBody: false, signal } });
      return res.data as unknown as WebReadableStream<Uint8Array> | null;
    }, DOWNLOAD_TIMEOUT_MS);
    if (!body) throw new Error(`GitHub refused ${what}: an empty response`);
    const stream = Readable.fromWeb(body);
    let broken: Error | undefined;
    stream.once('error', (e) => { broken = e; });
    try {
      const r = await extractTarball(stream, dir, { stripComponents: 1, path, limits });
      return { files: r.files, bytes: r.bytes };
    } catch (e) {
      if (e instanceof ArchiveRefusedError) throw new ArchiveRefusedError(e.entry, e.reason, `${this.id} at ${commit}`);
      // The connection broke mid-archive, or what arrived is not a whole archive (cut, corrupt):
      // nothing was kept and the caller retries. A file system error here (disk full, a duplicate
      // name) is ours or the archive's, not GitHub's: not retried as an outage.
      if (broken) throw new GitHostUnavailableError(`GitHub unavailable: ${what}: the archive broke off (${broken.message})`);
      const code = (e as { code?: unknown }).code;
      const local = typeof code === 'string' && /^E[A-Z]+$/.test(code) && (e as { syscall?: unknown }).syscall !== undefined;
      if (local) throw new Error(`the archive of ${this.id} at ${commit} cannot be written: ${(e as Error).message}`);
      throw new GitHostUnavailableError(`GitHub unavailable: ${what}: the archive cannot be read (${(e as Error).message})`);
    }
  }

  async pullRequest(n: number): Promise<PullRequestInfo> {
    return this.call(`GET ${this.path(`/pulls/${n}`)}`, undefined, async (o, signal) => {
      const { data: pr } = await o.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...this.r, pull_number: n, request: { signal } });
      return writes.pullRequestInfo(pr as Raw);
    });
  }

  private readonly run: writes.GitHubCall = (what, ref, fn) => this.call(what, ref, fn);

  async commitFiles(req: CommitFilesRequest): Promise<string> {
    return writes.commitFiles(this.run, this.r, req, await this.branchHead(req.branch));
  }

  findPullRequest(q: { head: string; state: 'open' | 'all' }): Promise<PullRequestInfo | undefined> {
    return writes.findPullRequest(this.run, this.r, q);
  }

  openPullRequest(req: { head: string; base: string; title: string; body: string }): Promise<PullRequestInfo> {
    return writes.openPullRequest(this.run, this.r, req);
  }

  updatePullRequest(n: number, change: PullRequestUpdate): Promise<PullRequestInfo> {
    return writes.updatePullRequest(this.run, this.r, n, change);
  }

  private appId(): number | undefined {
    const cfg = this.source as GitHubClientConfig;
    if (typeof (this.source as Octokit).request === 'function' || !cfg.auth || !('app' in cfg.auth)) return undefined;
    const id = Number(cfg.auth.app.appId);
    return Number.isSafeInteger(id) ? id : undefined;
  }

  /**
   * The login Nexus's comments carry. Anyone can paste the marker into a comment: only one written
   * as Nexus is edited (else a participant's comment could be turned into the preview and then
   * edited to say anything). Undefined when the host will not say: the marker alone decides then.
   */
  private whoAmI(): Promise<string | undefined> {
    this.self ??= this.octokit().then(async (o) => {
      const asApp = this.appId() !== undefined;
      try {
        // Octokit's App auth signs /app with the App's JWT by itself.
        if (asApp) return `${(await o.request('GET /app', { request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) } })).data?.slug}[bot]`;
        return (await o.request('GET /user', { request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) } })).data.login;
      } catch (e) {
        const mapped = mapGitHubError(e, asApp ? 'GET /app' : 'GET /user');
        this.self = undefined;
        if (mapped instanceof GitHostUnavailableError) throw mapped;
        return undefined;
      }
    });
    return this.self;
  }

  async upsertComment(pr: number, marker: string, body: string): Promise<{ id: string; created: boolean }> {
    // Without the marker the comment could never be found again, and the next run would add a second.
    const text = body.includes(marker) ? body : `${body}\n\n${marker}`;
    const me = await this.whoAmI();
    const existing = await this.call(`GET ${this.path(`/issues/${pr}/comments`)}`, undefined, async (o, signal) => {
      // (A variable, not a literal: the paginate types omit `request`, which it passes on all the same.)
      const params = { ...this.r, issue_number: pr, per_page: 100, request: { signal } };
      for await (const page of o.paginate.iterator('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', params)) {
        const hit = page.data.find((c) => typeof c.body === 'string' && c.body.includes(marker) && (me === undefined || c.user?.login === me));
        if (hit) return hit.id;
      }
      return undefined;
    });
    if (existing !== undefined) {
      await this.call(`PATCH ${this.path(`/issues/comments/${existing}`)}`, undefined, (o, signal) =>
        o.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...this.r, comment_id: existing, body: text, request: { signal } }));
      return { id: String(existing), created: false };
    }
    const res = await this.call(`POST ${this.path(`/issues/${pr}/comments`)}`, undefined, (o, signal) =>
      o.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...this.r, issue_number: pr, body: text, request: { signal } }));
    return { id: String(res.data.id), created: true };
  }

  async report(_pr: number, check: CheckReport): Promise<void> {
    try {
      await this.checkRun(check);
    } catch (e) {
      // Check runs are for GitHub Apps: a personal access token (or an App without checks:write) gets
      // 403. A commit status of the same name and verdict is what it can write, and a branch rule can require it.
      if (!(e instanceof GitHubRequestError && e.status === 403)) throw e;
      await this.commitStatus(check);
    }
  }

  private async commitStatus(check: CheckReport): Promise<void> {
    // Statuses know no `neutral`: needing an approval is `pending` (it must not read as passed).
    const state = check.conclusion === 'success' ? 'success' : check.conclusion === 'failure' ? 'failure' : 'pending';
    await this.call(`POST ${this.path(`/statuses/${check.commit}`)}`, check.commit, (o, signal) =>
      o.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
        ...this.r, sha: check.commit, state, context: check.name, description: check.title.slice(0, 140),
        ...(check.detailsUrl ? { target_url: check.detailsUrl } : {}), request: { signal },
      }));
  }

  private async checkRun(check: CheckReport): Promise<void> {
    const found = await this.call(`GET ${this.path(`/commits/${check.commit}/check-runs`)}`, check.commit, async (o, signal) => {
      const res = await o.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { ...this.r, ref: check.commit, check_name: check.name, per_page: 100, request: { signal } });
      // Only an App's own check runs can be updated: another App's run of the same name is left alone.
      const appId = this.appId();
      return res.data.check_runs.find((c) => c.name === check.name && (appId === undefined || c.app?.id === appId))?.id;
    });
    const fields = {
      name: check.name,
      ...(check.conclusion
        ? { status: 'completed' as const, conclusion: check.conclusion, completed_at: new Date().toISOString() }
        : { status: 'in_progress' as const }),
      output: { title: check.title.slice(0, 1000), summary: clip(check.summary)!, ...(check.text !== undefined ? { text: clip(check.text) } : {}) },
      ...(check.detailsUrl ? { details_url: check.detailsUrl } : {}),
    };
    if (found !== undefined) {
      await this.call(`PATCH ${this.path(`/check-runs/${found}`)}`, undefined, (o, signal) =>
        o.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { ...this.r, check_run_id: found, ...fields, request: { signal } }));
      return;
    }
    await this.call(`POST ${this.path('/check-runs')}`, undefined, (o, signal) =>
      o.request('POST /repos/{owner}/{repo}/check-runs', { ...this.r, head_sha: check.commit, ...fields, request: { signal } }));
  }

  async reviews(pr: number): Promise<Review[]> {
    return this.call(`GET ${this.path(`/pulls/${pr}/reviews`)}`, undefined, async (o, signal) => {
      const out: Review[] = [];
      const params = { ...this.r, pull_number: pr, per_page: 100, request: { signal } };
      for await (const page of o.paginate.iterator('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', params)) {
        for (const r of page.data) {
          const state = String(r.state).toLowerCase();
          // PENDING (not submitted) and reviews of deleted accounts approve nothing.
          if (!REVIEW_STATES.has(state) || !r.user?.login) continue;
          out.push({
            login: r.user.login,
            state: state as Review['state'],
            ...(r.commit_id ? { commit: r.commit_id } : {}),
            ...(r.submitted_at ? { at: r.submitted_at } : {}),
          });
        }
      }
      return out;
    });
  }
}

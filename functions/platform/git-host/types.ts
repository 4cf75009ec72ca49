// The landing-zone repository as Nexus reads and writes it through a Git host's REST API (GitHub
// with Octokit, Azure DevOps with azure-devops-node-api). No `git` binary: Azure Functions has none.
// Modelled on Pulumi's automation `Workspace`: one interface, one implementation per host, typed results.

/** Which repository: `github:owner/repo` or `azure-devops:org/project/repo` (NEXUS_LANDING_ZONE_REPO). */
export type RepoRef =
  | { provider: 'github'; owner: string; repo: string }
  | { provider: 'azure-devops'; org: string; project: string; repo: string };

export interface GitPerson {
  name: string;
  email: string;
  /** ISO time. */
  date?: string;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  author: GitPerson;
  committer: GitPerson;
  message: string;
  /** The host account of the author when the host knows it (GitHub login; ADO has none). */
  authorLogin?: string;
  /**
   * The commit object without its signature header (what was signed) and the armored signature
   * (`-----BEGIN PGP SIGNATURE-----` or `-----BEGIN SSH SIGNATURE-----`), when the commit is
   * signed and the host gives them (GitHub: `GET /repos/{o}/{r}/git/commits/{sha}`.verification).
   * Undefined: unsigned, or the host cannot say (Nexus then treats it as unsigned).
   */
  signed?: { payload: string; signature: string };
}

/** Where `head` stands relative to `base` (GitHub compare's `status`). */
export type Ancestry = 'ahead' | 'identical' | 'behind' | 'diverged';

export interface Comparison {
  status: Ancestry;
  /** Commits reachable from head and not from base, oldest first (at most `limit`). */
  commits: CommitInfo[];
  /** True when the host returned fewer commits than there are (the caller refuses to guess). */
  truncated: boolean;
}

export interface SnapshotLimits {
  /** Refuse archives whose files add up to more than this. */
  maxBytes: number;
  /** Refuse archives with more files than this. */
  maxFiles: number;
}

export interface PullRequestInfo {
  number: number;
  state: 'open' | 'closed' | 'merged';
  draft: boolean;
  /** Branch names without refs/heads/. */
  headRef: string;
  baseRef: string;
  headSha: string;
  mergeCommitSha?: string;
  title: string;
  url: string;
  /** The description (GitHub body, ADO description); filled by findPullRequest / openPullRequest / updatePullRequest. */
  body?: string;
}

/** One file of a commit Nexus writes: its new content, or null to delete it. Paths are repository-relative, `/`-separated. */
export interface FileWrite {
  path: string;
  content: string | null;
}

export interface CommitFilesRequest {
  /** Branch name without refs/heads/. Created when missing. */
  branch: string;
  /** The commit the new commit sits on (its only parent). */
  base: string;
  message: string;
  files: FileWrite[];
  /** Move the branch even when its head is not `base`'s ancestor (Nexus's own branches only). */
  force?: boolean;
}

export interface PullRequestUpdate {
  title?: string;
  body?: string;
  state?: 'closed';
}

export type CheckConclusion = 'success' | 'neutral' | 'failure';

export interface CheckReport {
  /** `nexus/preview`. */
  name: string;
  commit: string;
  /** In progress when absent. */
  conclusion?: CheckConclusion;
  title: string;
  /** GitHub check output summary (≤ 65,535 characters); the ADO status description gets `title`. */
  summary: string;
  /** GitHub check output text (≤ 65,535 characters): the full per-stack diffs when the comment had to shrink. */
  text?: string;
  detailsUrl?: string;
}

export interface Review {
  /** Host account (GitHub login, ADO unique name / e-mail). */
  login: string;
  /** ADO's display name or e-mail when known. */
  email?: string;
  state: 'approved' | 'changes_requested' | 'commented' | 'dismissed';
  /** The head commit the review was given on. */
  commit?: string;
  at?: string;
}

/** Thrown for 403/429 with Retry-After, 5xx and network errors: the caller retries later. */
export class GitHostUnavailableError extends Error {
  readonly retryAfterSeconds?: number;
  constructor(message: string, opts: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'GitHostUnavailableError';
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** Thrown when a ref or commit does not exist (404): not retried. */
export class GitRefNotFoundError extends Error {
  constructor(readonly ref: string, message?: string) {
    super(message ?? `no commit or branch '${ref}' in the landing-zone repository`);
    this.name = 'GitRefNotFoundError';
  }
}

export interface GitHost {
  readonly repo: RepoRef;
  /** `github:owner/repo` or `azure-devops:org/project/repo`. */
  readonly id: string;
  /** The commit a branch points at; undefined when the branch does not exist. */
  branchHead(branch: string): Promise<string | undefined>;
  /**
   * Writes the files of `commit` under `path` (a sub-folder of the repository, '' for all) into
   * `dir` (which exists and is empty), from the host's archive (GitHub tarball, ADO items zip).
   * Refuses (throws) an archive over the limits or with paths that leave `dir`; the caller removes `dir` then.
   */
  download(commit: string, path: string, dir: string, limits: SnapshotLimits): Promise<{ files: number; bytes: number }>;
  commit(sha: string): Promise<CommitInfo>;
  /** `base...head`; commits oldest first, each with `signed` filled when the host can. */
  compare(base: string, head: string, limit?: number): Promise<Comparison>;

  // Pull requests.
  pullRequest(n: number): Promise<PullRequestInfo>;
  /**
   * Creates the pull request's Nexus comment, or edits the one that carries `marker` (a hidden
   * HTML comment on GitHub; a thread property on ADO). Never a second one.
   */
  upsertComment(pr: number, marker: string, body: string): Promise<{ id: string; created: boolean }>;
  /** GitHub: a check run (created, or updated by name on that commit); ADO: a pull request status. */
  report(pr: number, check: CheckReport): Promise<void>;
  reviews(pr: number): Promise<Review[]>;

  // Writes (drift pull requests): Nexus's own branches and pull requests only.
  /**
   * One commit on top of `base` with `files` changed (others as in `base`), then `branch` created or
   * moved to it (`force`: even when that drops commits). Returns the new commit's sha.
   */
  commitFiles(req: CommitFilesRequest): Promise<string>;
  /** The newest pull request from `head` (a branch of this repository), open ones first; undefined when none. */
  findPullRequest(q: { head: string; state: 'open' | 'all' }): Promise<PullRequestInfo | undefined>;
  openPullRequest(req: { head: string; base: string; title: string; body: string }): Promise<PullRequestInfo>;
  /** Edits the title or body, or closes it (ADO: abandons). */
  updatePullRequest(n: number, change: PullRequestUpdate): Promise<PullRequestInfo>;
}

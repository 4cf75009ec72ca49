// A faithful test double of a Git host (the GitHost port) over a local bare repository, made and
// read with the `git` binary: `git archive` for download, `git rev-list` / `merge-base` for compare,
// `git cat-file commit` for the signed payload. Pull requests, comments, checks and reviews are kept
// in memory. `LocalGitRepo` makes the repository: a bare one plus a working clone to commit from.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { x as extractTar } from 'tar';
import {
  GitHostUnavailableError, GitRefNotFoundError,
  type CheckReport, type CommitInfo, type Comparison, type GitHost, type GitPerson, type PullRequestInfo, type RepoRef, type Review, type SnapshotLimits,
} from '../../functions/platform/git-host/types.ts';

export function git(cwd: string, args: string[], opts: { input?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' } },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr: stderr.toString() })) : resolve(stdout)));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

const text = async (cwd: string, args: string[]) => (await git(cwd, args)).toString('utf8').trim();

export interface Author { name: string; email: string }

/** A bare repository and a working clone of it; commits are pushed to the bare one's branch. */
export class LocalGitRepo {
  private constructor(readonly bare: string, readonly work: string, readonly branch: string) {}

  /** Empty repository with `branch` (default main) unborn; `root` defaults to a new temp folder. */
  static async create(opts: { branch?: string; root?: string } = {}): Promise<LocalGitRepo> {
    const root = opts.root ?? mkdtempSync(join(tmpdir(), 'nexus-local-git-'));
    const branch = opts.branch ?? 'main';
    const bare = join(root, 'repo.git');
    const work = join(root, 'work');
    mkdirSync(bare, { recursive: true });
    await git(bare, ['init', '-q', '--bare', `--initial-branch=${branch}`]);
    await git(root, ['clone', '-q', bare, work]);
    await git(work, ['checkout', '-q', '-B', branch]);
    return new LocalGitRepo(bare, work, branch);
  }

  /** Writes files (path relative to the repository → content; null deletes). */
  write(files: Record<string, string | null>): void {
    for (const [path, content] of Object.entries(files)) {
      const file = join(this.work, path);
      if (content === null) rmSync(file, { force: true });
      else {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
  }

  /** Copies a folder's files into the working tree at `to` ('' for the root). */
  copy(from: string, to = ''): void {
    cpSync(from, join(this.work, to), { recursive: true });
  }

  /** Commits everything in the working tree and pushes it to `branch`; returns the commit id. */
  async commit(message: string, opts: { author?: Author; branch?: string; extraArgs?: string[] } = {}): Promise<string> {
    const a = opts.author ?? { name: 'Alice Example', email: 'alice@contoso.example' };
    await git(this.work, ['add', '-A']);
    await git(this.work, ['-c', `user.name=${a.name}`, '-c', `user.email=${a.email}`, '-c', 'commit.gpgsign=false', ...(opts.extraArgs ?? []), 'commit', '-q', '--allow-empty', '-m', message]);
    const sha = await text(this.work, ['rev-parse', 'HEAD']);
    await git(this.work, ['push', '-q', '--force', 'origin', `HEAD:refs/heads/${opts.branch ?? this.branch}`]);
    return sha;
  }

  /** Any git command in the working clone (checkout, signing config, ...). */
  git(...args: string[]): Promise<string> {
    return text(this.work, args);
  }

  async deleteBranch(branch: string): Promise<void> {
    await git(this.bare, ['update-ref', '-d', `refs/heads/${branch}`]);
  }
}

export interface LocalGitHostOptions {
  repo?: RepoRef;
}

/** The GitHost port over a bare repository, with counters and faults for tests. */
export class LocalGitHost implements GitHost {
  readonly repo: RepoRef;
  readonly id: string;
  /** Downloads started, per commit. */
  readonly downloads = new Map<string, number>();
  /** The next download writes this many files, then fails as a dropped connection would. */
  failNextDownloadAfter?: number;
  /** Every download waits for this before writing (tests hold downloads open with it). */
  gate?: Promise<void>;
  readonly pulls = new Map<number, PullRequestInfo>();
  readonly comments = new Map<number, { id: string; marker: string; body: string }[]>();
  readonly checks: (CheckReport & { pr: number })[] = [];
  readonly reviewsByPr = new Map<number, Review[]>();
  private nextComment = 1;

  constructor(readonly bare: string, opts: LocalGitHostOptions = {}) {
    this.repo = opts.repo ?? { provider: 'github', owner: 'contoso', repo: 'landing-zones' };
    this.id = this.repo.provider === 'github' ? `github:${this.repo.owner}/${this.repo.repo}` : `azure-devops:${this.repo.org}/${this.repo.project}/${this.repo.repo}`;
  }

  async branchHead(branch: string): Promise<string | undefined> {
    if (!branch || branch.startsWith('-')) return undefined;
    try {
      return await text(this.bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
    } catch {
      return undefined;
    }
  }

  async download(commit: string, path: string, dir: string, limits: SnapshotLimits): Promise<{ files: number; bytes: number }> {
    this.downloads.set(commit, (this.downloads.get(commit) ?? 0) + 1);
    await this.resolve(commit);
    const sub = path.replace(/^\/+|\/+$/g, '');
    const treeish = sub ? `${commit}:${sub}` : commit;
    // Sizes first, as a host's archive endpoint knows them: refuse before writing anything.
    const listing = await git(this.bare, ['ls-tree', '-r', '-l', '-z', treeish]).catch(() => {
      throw new GitRefNotFoundError(`${commit}:${sub}`, `no folder '${sub}' at ${commit}`);
    });
    let files = 0;
    let bytes = 0;
    for (const line of listing.toString('utf8').split('\0').filter(Boolean)) {
      const size = Number(line.split('\t')[0]!.trim().split(/\s+/)[3]);
      files++;
      bytes += Number.isFinite(size) ? size : 0;
    }
    if (files > limits.maxFiles) throw new Error(`archive of ${commit} has ${files} files, more than ${limits.maxFiles}`);
    if (bytes > limits.maxBytes) throw new Error(`archive of ${commit} has ${bytes} bytes, more than ${limits.maxBytes}`);
    await this.gate;
    const tar = await git(this.bare, ['archive', '--format=tar', treeish]);
    const failAfter = this.failNextDownloadAfter;
    this.failNextDownloadAfter = undefined;
    let written = 0;
    await pipeline(Readable.from([tar]), extractTar({
      cwd: dir,
      strict: true,
      filter: () => failAfter === undefined || written++ < failAfter,
    }));
    if (failAfter !== undefined) throw new GitHostUnavailableError(`connection reset while downloading ${commit} (after ${failAfter} files)`);
    return { files, bytes };
  }

  async commit(sha: string): Promise<CommitInfo> {
    const id = await this.resolve(sha);
    return parseCommit(id, (await git(this.bare, ['cat-file', 'commit', id])).toString('utf8'));
  }

  async compare(base: string, head: string, limit = 250): Promise<Comparison> {
    const b = await this.resolve(base);
    const h = await this.resolve(head);
    const status = b === h ? 'identical'
      : (await this.isAncestor(b, h)) ? 'ahead'
      : (await this.isAncestor(h, b)) ? 'behind'
      : 'diverged';
    const ids = (await text(this.bare, ['rev-list', '--reverse', '--topo-order', `${b}..${h}`])).split('\n').filter(Boolean);
    const commits = await Promise.all(ids.slice(0, limit).map((id) => this.commit(id)));
    return { status, commits, truncated: ids.length > limit };
  }

  async pullRequest(n: number): Promise<PullRequestInfo> {
    const pr = this.pulls.get(n);
    if (!pr) throw new GitRefNotFoundError(`pull/${n}`, `no pull request ${n}`);
    return { ...pr };
  }

  // The port's writes are the real adapters' (tested against the stand-ins); this host reads only.
  async commitFiles(): Promise<string> { throw new Error('LocalGitHost does not write commits'); }
  async findPullRequest(): Promise<PullRequestInfo | undefined> { throw new Error('LocalGitHost does not search pull requests'); }
  async openPullRequest(): Promise<PullRequestInfo> { throw new Error('LocalGitHost opens pull requests with seedPullRequest'); }
  async updatePullRequest(): Promise<PullRequestInfo> { throw new Error('LocalGitHost does not edit pull requests'); }

  /** Opens (or replaces) a pull request whose head is the branch's current commit. */
  async seedPullRequest(pr: { number: number; headRef: string; baseRef?: string; title?: string; draft?: boolean }): Promise<PullRequestInfo> {
    const headSha = await this.branchHead(pr.headRef);
    if (!headSha) throw new GitRefNotFoundError(pr.headRef);
    const info: PullRequestInfo = {
      number: pr.number, state: 'open', draft: pr.draft ?? false, headRef: pr.headRef, baseRef: pr.baseRef ?? 'main', headSha,
      title: pr.title ?? `PR ${pr.number}`, url: `https://git.example/${this.id}/pull/${pr.number}`,
    };
    this.pulls.set(pr.number, info);
    return info;
  }

  async upsertComment(pr: number, marker: string, body: string): Promise<{ id: string; created: boolean }> {
    const list = this.comments.get(pr) ?? [];
    this.comments.set(pr, list);
    const found = list.find((c) => c.marker === marker);
    if (found) {
      found.body = body;
      return { id: found.id, created: false };
    }
    const id = String(this.nextComment++);
    list.push({ id, marker, body });
    return { id, created: true };
  }

  async report(pr: number, check: CheckReport): Promise<void> {
    const i = this.checks.findIndex((c) => c.pr === pr && c.name === check.name && c.commit === check.commit);
    if (i >= 0) this.checks[i] = { ...check, pr };
    else this.checks.push({ ...check, pr });
  }

  async reviews(pr: number): Promise<Review[]> {
    return [...(this.reviewsByPr.get(pr) ?? [])];
  }

  addReview(pr: number, review: Review): void {
    this.reviewsByPr.set(pr, [...(this.reviewsByPr.get(pr) ?? []), review]);
  }

  /** The full commit id of `ref`, or GitRefNotFoundError (only hex ids and names, never an option). */
  private async resolve(ref: string): Promise<string> {
    if (!/^[0-9a-f]{4,40}$/i.test(ref)) throw new GitRefNotFoundError(ref);
    try {
      return await text(this.bare, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    } catch {
      throw new GitRefNotFoundError(ref);
    }
  }

  private async isAncestor(a: string, b: string): Promise<boolean> {
    try {
      await git(this.bare, ['merge-base', '--is-ancestor', a, b]);
      return true;
    } catch {
      return false;
    }
  }
}

function person(value: string): GitPerson {
  const m = /^(.*) <([^>]*)> (\d+) ([+-]\d{4})$/.exec(value);
  if (!m) return { name: value, email: '' };
  return { name: m[1]!, email: m[2]!, date: new Date(Number(m[3]) * 1000).toISOString() };
}

/** A raw commit object: headers, then a blank line and the message; `gpgsig` spans continuation lines. */
export function parseCommit(sha: string, raw: string): CommitInfo {
  const end = raw.indexOf('\n\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const message = end < 0 ? '' : raw.slice(end + 2);
  const parents: string[] = [];
  let author: GitPerson = { name: '', email: '' };
  let committer: GitPerson = { name: '', email: '' };
  const kept: string[] = [];
  let signature: string[] | undefined;
  let inSig = false;
  for (const line of head.split('\n')) {
    if (inSig && line.startsWith(' ')) {
      signature!.push(line.slice(1));
      continue;
    }
    inSig = false;
    const sp = line.indexOf(' ');
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    if (key === 'gpgsig' || key === 'gpgsig-sha256') {
      signature = [value];
      inSig = true;
      continue;
    }
    kept.push(line);
    if (key === 'parent') parents.push(value);
    else if (key === 'author') author = person(value);
    else if (key === 'committer') committer = person(value);
  }
  const info: CommitInfo = { sha, parents, author, committer, message: message.replace(/\n$/, '') };
  if (signature) info.signed = { payload: `${kept.join('\n')}\n\n${message}`, signature: `${signature.join('\n')}\n` };
  return info;
}

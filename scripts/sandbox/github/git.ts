// Git plumbing over the stand-in's bare repositories, through the machine's `git` binary (the
// stand-in is a test and demo tool; Nexus itself never runs git). Every revision that comes from a
// request is checked by `safeRev` before it reaches a command line, so it cannot become an option.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ZERO_SHA = '0000000000000000000000000000000000000000';
const MAX_OUTPUT = 64 * 1024 * 1024;

export class GitFailed extends Error {
  constructor(readonly args: string[], readonly code: number | null, readonly stderr: string) {
    super(`git ${args.join(' ')} failed (${code}): ${stderr.trim()}`);
  }
}

export interface GitResult { stdout: Buffer; code: number }

/** Runs git; exit codes in `okCodes` are answers (e.g. merge-base --is-ancestor's 1), others throw. */
export function git(gitDir: string, args: string[], opts: { env?: Record<string, string>; okCodes?: number[]; cwd?: string } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile('git', ['--git-dir', gitDir, ...args], {
      encoding: 'buffer',
      maxBuffer: MAX_OUTPUT,
      cwd: opts.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env },
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      if (code !== null && (code === 0 || opts.okCodes?.includes(code))) resolve({ stdout, code });
      else reject(new GitFailed(args, code, stderr.toString()));
    });
  });
}

const text = async (gitDir: string, args: string[]) => (await git(gitDir, args)).stdout.toString('utf8');

/** A revision or ref name as requests give it: never an option, never a range or a reflog walk. */
export function safeRev(rev: string): boolean {
  return rev.length > 0 && rev.length <= 250 && /^[A-Za-z0-9._\/-]+$/.test(rev) && !rev.startsWith('-') && !rev.includes('..') && !rev.includes('//');
}

export async function initBare(gitDir: string, defaultBranch: string): Promise<void> {
  if (existsSync(join(gitDir, 'HEAD'))) return;
  mkdirSync(gitDir, { recursive: true });
  await git(gitDir, ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`]);
  // Pushes of any size and deletions of the current branch are the stand-in's to allow.
  await git(gitDir, ['config', 'receive.denyDeleteCurrent', 'ignore']);
  await git(gitDir, ['config', 'http.receivepack', 'true']);
}

/** All branch and tag refs: ref name → sha. */
export async function listRefs(gitDir: string): Promise<Map<string, string>> {
  const out = await text(gitDir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) refs.set(line.slice(i + 1), line.slice(0, i));
  }
  return refs;
}

/** The commit a revision names, or undefined (unknown ref, or not a commit). */
export async function resolveCommit(gitDir: string, rev: string): Promise<string | undefined> {
  if (!safeRev(rev)) return undefined;
  const r = await git(gitDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { okCodes: [1, 128] });
  const sha = r.stdout.toString().trim();
  return r.code === 0 && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
}

export async function isAncestor(gitDir: string, ancestor: string, of: string): Promise<boolean> {
  return (await git(gitDir, ['merge-base', '--is-ancestor', ancestor, of], { okCodes: [1] })).code === 0;
}

export async function mergeBase(gitDir: string, a: string, b: string): Promise<string | undefined> {
  const r = await git(gitDir, ['merge-base', a, b], { okCodes: [1] });
  return r.code === 0 ? r.stdout.toString().trim() : undefined;
}

/** Commits reachable from `head` and from none of `exclude`, oldest first. */
export async function revList(gitDir: string, head: string, exclude: string[]): Promise<string[]> {
  const out = await text(gitDir, ['rev-list', '--reverse', '--topo-order', head, ...exclude.map((e) => `^${e}`), '--']);
  return out.split('\n').filter(Boolean);
}

export async function countBetween(gitDir: string, from: string, to: string): Promise<number> {
  return Number((await text(gitDir, ['rev-list', '--count', to, `^${from}`, '--'])).trim());
}

export interface Person { name: string; email: string; date: string }
export interface RawCommit {
  sha: string;
  tree: string;
  parents: string[];
  author: Person;
  committer: Person;
  message: string;
  /** The gpgsig header's content (continuation spaces removed), as GitHub's verification.signature. */
  signature?: string;
  /** The object without its gpgsig header: what was signed (GitHub's verification.payload). */
  payload?: string;
}

function person(value: string): Person {
  const m = /^(.*) <([^>]*)> (\d+) ([+-]\d{4})$/.exec(value);
  if (!m) return { name: value, email: '', date: new Date(0).toISOString() };
  return { name: m[1], email: m[2], date: new Date(Number(m[3]) * 1000).toISOString().replace('.000Z', 'Z') };
}

/** Parses a commit object as `git cat-file commit` gives it, byte for byte. */
export function parseCommit(sha: string, raw: string): RawCommit {
  const end = raw.indexOf('\n\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const message = end < 0 ? '' : raw.slice(end + 2);
  const lines = head.split('\n');
  const c: RawCommit = { sha, tree: '', parents: [], author: person(''), committer: person(''), message };
  const kept: string[] = [];
  const sig: string[] = [];
  let inSig = false;
  for (const line of lines) {
    if (inSig && line.startsWith(' ')) {
      sig.push(line.slice(1));
      continue;
    }
    inSig = false;
    if (line.startsWith('gpgsig ')) {
      inSig = true;
      sig.push(line.slice('gpgsig '.length));
      continue;
    }
    kept.push(line);
    const sp = line.indexOf(' ');
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    if (key === 'tree') c.tree = value;
    else if (key === 'parent') c.parents.push(value);
    else if (key === 'author') c.author = person(value);
    else if (key === 'committer') c.committer = person(value);
  }
  if (sig.length) {
    c.signature = sig.join('\n') + '\n';
    c.payload = kept.join('\n') + (end < 0 ? '' : '\n\n' + message);
  }
  return c;
}

export async function readCommit(gitDir: string, sha: string): Promise<RawCommit> {
  return parseCommit(sha, await text(gitDir, ['cat-file', 'commit', sha]));
}

export interface FileChange { status: 'added' | 'removed' | 'modified' | 'renamed'; filename: string; previous?: string }

/** Files changed from `from` (or the empty tree) to `to`. */
export async function changedFiles(gitDir: string, from: string | undefined, to: string): Promise<FileChange[]> {
  const args = from
    ? ['diff-tree', '-r', '--no-commit-id', '--name-status', '-z', from, to]
    : ['diff-tree', '-r', '--root', '--no-commit-id', '--name-status', '-z', to];
  const parts = (await text(gitDir, args)).split('\0').filter((p) => p !== '');
  const out: FileChange[] = [];
  for (let i = 0; i < parts.length; i++) {
    const code = parts[i][0];
    if (code === 'R' || code === 'C') {
      out.push({ status: 'renamed', previous: parts[i + 1], filename: parts[i + 2] });
      i += 2;
    } else {
      out.push({ status: code === 'A' ? 'added' : code === 'D' ? 'removed' : 'modified', filename: parts[i + 1] });
      i += 1;
    }
  }
  return out;
}

export async function updateRef(gitDir: string, ref: string, sha: string, old: string): Promise<void> {
  await git(gitDir, ['update-ref', ref, sha, old]);
}

export interface Identity { name: string; email: string; date?: Date }

function identityEnv(author: Identity, committer: Identity): Record<string, string> {
  const when = (d?: Date) => `${Math.floor((d ?? new Date()).getTime() / 1000)} +0000`;
  return {
    GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_AUTHOR_DATE: when(author.date),
    GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email, GIT_COMMITTER_DATE: when(committer.date),
  };
}

export async function commitTree(gitDir: string, tree: string, parents: string[], message: string, author: Identity, committer: Identity = author): Promise<string> {
  const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message];
  return (await git(gitDir, args, { env: identityEnv(author, committer) })).stdout.toString().trim();
}

/** The tree of merging `theirs` into `ours`, or undefined when they conflict. */
export async function mergeTree(gitDir: string, ours: string, theirs: string): Promise<string | undefined> {
  const r = await git(gitDir, ['merge-tree', '--write-tree', ours, theirs], { okCodes: [1] });
  return r.code === 0 ? r.stdout.toString().split('\n')[0].trim() : undefined;
}

/** A tree holding every file of `dir` (as `git add -A` sees it), written into the bare repository. */
export async function treeOfFolder(gitDir: string, folder: string): Promise<string> {
  const dir = resolve(folder);
  const scratch = mkdtempSync(join(tmpdir(), 'gh-standin-index-'));
  try {
    const env = { GIT_INDEX_FILE: join(scratch, 'index'), GIT_WORK_TREE: dir };
    await git(gitDir, ['add', '-A', '--', '.'], { env, cwd: dir });
    return (await git(gitDir, ['write-tree'], { env, cwd: dir })).stdout.toString().trim();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `git archive` as GitHub's tarball: gzip, every path under `<prefix>/`. */
export async function tarball(gitDir: string, sha: string, prefix: string): Promise<Buffer> {
  return (await git(gitDir, ['archive', '--format=tar.gz', `--prefix=${prefix}/`, sha])).stdout;
}

export interface TreeEntry { mode: string; type: 'blob' | 'tree' | 'commit'; sha: string; size: number; path: string }

/** Entries of `ls-tree` at a commit: the entry at `path`, or with `children` the entries under it. */
export async function lsTree(gitDir: string, sha: string, path: string, children: boolean): Promise<TreeEntry[]> {
  const spec = children ? (path ? [`${path}/`] : []) : [path];
  const out = await text(gitDir, ['ls-tree', '-z', '-l', '--full-tree', sha, '--', ...spec]);
  return out.split('\0').filter(Boolean).map((line) => {
    const tab = line.indexOf('\t');
    const [mode, type, objectSha, size] = line.slice(0, tab).split(/\s+/);
    return { mode, type: type as TreeEntry['type'], sha: objectSha, size: size === '-' ? 0 : Number(size), path: line.slice(tab + 1) };
  });
}

export async function readBlob(gitDir: string, sha: string): Promise<Buffer> {
  return (await git(gitDir, ['cat-file', 'blob', sha])).stdout;
}

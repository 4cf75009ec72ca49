// The Azure DevOps stand-in's Git layer: bare repositories under the data dir, read with the
// machine's `git` (the stand-in is a test/demo environment; Nexus itself never runs git).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ZERO = '0000000000000000000000000000000000000000';

export interface RawCommit {
  commitId: string;
  parents: string[];
  treeId: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  comment: string;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** org/project/repo names: plain names only, so they never leave the data dir. */
export function safeName(v: string): boolean {
  return SAFE_NAME.test(v) && !v.includes('..');
}

export function repoDir(root: string, org: string, project: string, repo: string): string {
  return join(root, org, project, `${repo}.git`);
}

export function git(dir: string, args: string[], opts: { env?: Record<string, string>; input?: string | Buffer } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['--git-dir', dir, ...args], {
      env: { ...process.env, ...opts.env },
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'buffer',
    }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`git ${args[0]}: ${String(stderr).trim() || err.message}`), { code: (err as { code?: unknown }).code }));
      else resolve(stdout.toString('utf8'));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The archive bytes (`git archive --format=zip`); entries keep their repository paths. */
export function archiveZip(dir: string, commit: string, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const args = ['--git-dir', dir, 'archive', '--format=zip', commit];
    if (path) args.push('--', path);
    execFile('git', args, { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git archive: ${String(stderr).trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

export async function initBare(dir: string): Promise<void> {
  if (existsSync(join(dir, 'HEAD'))) return;
  await mkdir(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile('git', ['init', '--bare', '--quiet', '--initial-branch=main', dir], (err) => (err ? reject(err) : resolve()));
  });
  // Pushes through http-backend need receive-pack enabled; the stand-in checks the PAT itself.
  await git(dir, ['config', 'http.receivepack', 'true']);
}

/** One commit of the files of `fromDir` on `branch` (the first commit when the branch is new). */
export async function commitFolder(dir: string, fromDir: string, branch: string, message: string): Promise<string> {
  const tmp = await mkdtemp(join(tmpdir(), 'ado-seed-'));
  try {
    const env = {
      GIT_INDEX_FILE: join(tmp, 'index'),
      GIT_AUTHOR_NAME: 'Nexus Seed', GIT_AUTHOR_EMAIL: 'seed@contoso.example',
      GIT_COMMITTER_NAME: 'Nexus Seed', GIT_COMMITTER_EMAIL: 'seed@contoso.example',
    };
    await git(dir, ['--work-tree', fromDir, 'add', '-A', '.'], { env });
    const tree = (await git(dir, ['write-tree'], { env })).trim();
    const parent = await resolve(dir, `refs/heads/${branch}`);
    const commit = (await git(dir, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message], { env })).trim();
    await git(dir, ['update-ref', `refs/heads/${branch}`, commit]);
    return commit;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The commit a name (sha, refs/heads/x, branch) points at; undefined when none. */
export async function resolve(dir: string, name: string): Promise<string | undefined> {
  if (!name || name.startsWith('-')) return undefined;
  try {
    return (await git(dir, ['rev-parse', '--verify', '--quiet', `${name}^{commit}`])).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function refs(dir: string): Promise<Map<string, string>> {
  const out = await git(dir, ['for-each-ref', '--format=%(refname) %(objectname)']);
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, sha] = line.split(' ');
    if (name && sha) m.set(name, sha);
  }
  return m;
}

export async function readCommit(dir: string, sha: string): Promise<RawCommit | undefined> {
  const id = await resolve(dir, sha);
  if (!id) return undefined;
  const out = await git(dir, ['show', '-s', '--format=%H%x00%P%x00%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B', id]);
  const [commitId, parents, treeId, an, ae, ad, cn, ce, cd, ...rest] = out.split('\0');
  return {
    commitId, treeId,
    parents: parents ? parents.split(' ') : [],
    author: { name: an, email: ae, date: ad },
    committer: { name: cn, email: ce, date: cd },
    comment: rest.join('\0').replace(/\n+$/, ''),
  };
}

/** Commits reachable from `head` and not from `base` (base may be undefined: all), newest first. */
export async function revList(dir: string, head: string, base?: string, max = 1000): Promise<string[]> {
  const out = await git(dir, ['rev-list', `--max-count=${max}`, head, ...(base ? [`^${base}`] : [])]);
  return out.split('\n').filter(Boolean);
}

export async function aheadBehind(dir: string, base: string, target: string): Promise<{ ahead: number; behind: number; common?: string }> {
  const out = await git(dir, ['rev-list', '--left-right', '--count', `${base}...${target}`]);
  const [behind, ahead] = out.trim().split(/\s+/).map(Number);
  let common: string | undefined;
  try {
    common = (await git(dir, ['merge-base', base, target])).trim() || undefined;
  } catch {
    common = undefined;
  }
  return { ahead, behind, common };
}

/** A merge commit of `source` into `target` (no working tree); undefined on conflicts. */
export async function mergeCommit(dir: string, target: string, source: string, message: string, who: { name: string; email: string }): Promise<string | undefined> {
  let tree: string;
  try {
    tree = (await git(dir, ['merge-tree', '--write-tree', target, source])).split('\n')[0].trim();
  } catch {
    return undefined;
  }
  const env = { GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email, GIT_COMMITTER_NAME: who.name, GIT_COMMITTER_EMAIL: who.email };
  return (await git(dir, ['commit-tree', tree, '-p', target, '-p', source, '-m', message], { env })).trim();
}


/** The tree entry at `path` in `commit` (a blob or a tree); undefined when there is none. */
export async function lsEntry(dir: string, commit: string, path: string): Promise<{ sha: string; type: string } | undefined> {
  const out = await git(dir, ['ls-tree', '-z', '--full-tree', commit, '--', path]);
  for (const line of out.split('\0').filter(Boolean)) {
    const tab = line.indexOf('\t');
    const [, type, sha] = line.slice(0, tab).split(/\s+/);
    if (line.slice(tab + 1) === path) return { sha, type };
  }
  return undefined;
}

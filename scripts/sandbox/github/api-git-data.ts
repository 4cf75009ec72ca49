// REST routes of GitHub's Git data API: blobs, trees (on a base tree, entries added or removed),
// commits and refs (created, or moved with `force` when not a fast-forward). Objects are written
// into the bare repository, so a later tarball, compare or clone sees them. A ref update delivers
// `push` (and `synchronize` for a pull request whose head moved), as GitHub does.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandInError, invalid, notFound, type Ctx } from './context.ts';
import { ZERO_SHA, commitTree, git, isAncestor, listRefs, readCommit, resolveCommit, safeRev } from './git.ts';
import { bodyObject, dec, field, str, type ApiRequest, type Reply } from './http.ts';
import { deliverPushes } from './events.ts';
import { gitCommitShape } from './shapes.ts';
import type { RepoMeta } from './store.ts';

const SHA = /^[0-9a-f]{40}$/;
const MAX_ENTRIES = 10_000;

/** git with `input` on stdin; its output trimmed. */
function gitStdin(gitDir: string, args: string[], input: Buffer | string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', ...env } }, (err, out, errOut) =>
      (err ? reject(new Error(`git ${args[0]}: ${errOut || err.message}`)) : resolve(out.trim())));
    child.stdin?.end(input);
  });
}

const writeBlob = (gitDir: string, bytes: Buffer) => gitStdin(gitDir, ['hash-object', '-w', '--stdin'], bytes);

async function objectType(gitDir: string, sha: string): Promise<string | undefined> {
  const r = await git(gitDir, ['cat-file', '-t', sha], { okCodes: [1, 128] });
  return r.code === 0 ? r.stdout.toString().trim() : undefined;
}

/** A tree path as GitHub takes it: relative, `/`-separated, no empty, `.` or `..` segments. */
function treePath(v: unknown, i: number): string {
  if (typeof v !== 'string' || v === '' || v.length > 4096 || v.startsWith('/') || v.includes('\0') || v.split('/').some((s) => s === '' || s === '.' || s === '..' || s === '.git')) {
    throw invalid('Tree', `tree[${i}].path`, `tree.path '${String(v).slice(0, 100)}' is not a repository path`);
  }
  return v;
}

export async function gitDataRoutes(ctx: Ctx, repo: RepoMeta, rest: string, req: ApiRequest): Promise<Reply | undefined> {
  const full = `${repo.owner}/${repo.name}`;
  if (rest === '/git/blobs' && req.method === 'POST') {
    const b = bodyObject(req, 'Blob');
    const content = str(b, 'Blob', 'content', { required: true }) as string;
    const encoding = str(b, 'Blob', 'encoding') ?? 'utf-8';
    if (encoding !== 'utf-8' && encoding !== 'base64') throw invalid('Blob', 'encoding', 'encoding must be utf-8 or base64');
    const sha = await writeBlob(ctx.repoDir(full), Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'));
    return { status: 201, body: { sha, url: `${ctx.urls.api}/repos/${full}/git/blobs/${sha}` } };
  }
  if (rest === '/git/trees' && req.method === 'POST') return createTree(ctx, full, req);
  if (rest === '/git/commits' && req.method === 'POST') return createCommit(ctx, full, req);
  if (rest === '/git/refs' && req.method === 'POST') return ctx.withLock(full, () => createRef(ctx, full, req));
  const m = /^\/git\/refs\/(.+)$/.exec(rest);
  if (m && req.method === 'PATCH') return ctx.withLock(full, () => updateRef(ctx, full, dec(m[1]), req));
  return undefined;
}

async function createTree(ctx: Ctx, full: string, req: ApiRequest): Promise<Reply> {
  const dir = ctx.repoDir(full);
  const b = bodyObject(req, 'Tree');
  const base = str(b, 'Tree', 'base_tree');
  const entries = field(b, 'tree');
  if (!Array.isArray(entries)) throw invalid('Tree', 'tree', 'tree must be an array', 'missing_field');
  if (entries.length > MAX_ENTRIES) throw invalid('Tree', 'tree', `tree has more than ${MAX_ENTRIES} entries`);
  if (base !== undefined && (!SHA.test(base) || (await objectType(dir, base)) !== 'tree')) throw invalid('Tree', 'base_tree', `base_tree ${base} is not a tree`);
  const scratch = mkdtempSync(join(tmpdir(), 'gh-standin-tree-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    await git(dir, base ? ['read-tree', base] : ['read-tree', '--empty'], { env });
    for (const [i, raw] of entries.entries()) {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Tree', `tree[${i}]`, 'each tree entry must be an object');
      const e = raw as Record<string, unknown>;
      const path = treePath(field(e, 'path'), i);
      const mode = field(e, 'mode') ?? '100644';
      if (mode !== '100644' && mode !== '100755' && mode !== '120000') throw invalid('Tree', `tree[${i}].mode`, 'the stand-in writes blob modes 100644, 100755 and 120000 only');
      const sha = field(e, 'sha');
      const content = field(e, 'content');
      if (sha === null) {
        // Mode 0 removes the path (update-index --force-remove needs a work tree; this does not).
        await gitStdin(dir, ['update-index', '--index-info'], `0 ${ZERO_SHA}\t${path}\n`, env);
        continue;
      }
      let blob: string;
      if (typeof content === 'string') blob = await writeBlob(dir, Buffer.from(content, 'utf8'));
      else if (typeof sha === 'string' && SHA.test(sha) && (await objectType(dir, sha)) === 'blob') blob = sha;
      else throw invalid('Tree', `tree[${i}].sha`, 'tree.sha must name a blob of this repository (or null to remove the path), or give content');
      await git(dir, ['update-index', '--add', '--cacheinfo', `${mode},${blob},${path}`], { env });
    }
    const tree = (await git(dir, ['write-tree'], { env })).stdout.toString().trim();
    return { status: 201, body: { sha: tree, url: `${ctx.urls.api}/repos/${full}/git/trees/${tree}`, truncated: false } };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function createCommit(ctx: Ctx, full: string, req: ApiRequest): Promise<Reply> {
  const dir = ctx.repoDir(full);
  const b = bodyObject(req, 'Commit');
  const message = str(b, 'Commit', 'message', { required: true }) as string;
  const tree = str(b, 'Commit', 'tree', { required: true }) as string;
  if (!SHA.test(tree) || (await objectType(dir, tree)) !== 'tree') throw invalid('Commit', 'tree', `tree ${tree} is not a tree of this repository`);
  const parents = field(b, 'parents') ?? [];
  if (!Array.isArray(parents) || parents.length > 16) throw invalid('Commit', 'parents', 'parents must be an array of commit shas');
  for (const [i, p] of parents.entries()) {
    if (typeof p !== 'string' || !SHA.test(p) || (await objectType(dir, p)) !== 'commit') throw invalid('Commit', `parents[${i}]`, `parent ${String(p).slice(0, 60)} is not a commit of this repository`);
  }
  const user = ctx.store.users.get(req.login);
  const who = { name: user?.name ?? req.login, email: user?.email ?? `${req.login}@users.noreply.standin` };
  const sha = await commitTree(dir, tree, parents as string[], message, who);
  return { status: 201, body: gitCommitShape(full, await readCommit(dir, sha), ctx.urls) };
}

function refShape(ctx: Ctx, full: string, ref: string, sha: string) {
  return { ref, node_id: Buffer.from(`Ref:${full}:${ref}`).toString('base64'), url: `${ctx.urls.api}/repos/${full}/git/${ref}`, object: { sha, type: 'commit', url: `${ctx.urls.api}/repos/${full}/git/commits/${sha}` } };
}

async function createRef(ctx: Ctx, full: string, req: ApiRequest): Promise<Reply> {
  const dir = ctx.repoDir(full);
  const b = bodyObject(req, 'Reference');
  const ref = str(b, 'Reference', 'ref', { required: true }) as string;
  const sha = str(b, 'Reference', 'sha', { required: true }) as string;
  if (!/^refs\/(heads|tags)\//.test(ref) || !safeRev(ref)) throw invalid('Reference', 'ref', `${ref} is not a valid ref name`);
  if (!SHA.test(sha) || !(await resolveCommit(dir, sha))) throw invalid('Reference', 'sha', `Object does not exist: ${sha}`);
  const before = await listRefs(dir);
  if (before.has(ref)) throw invalid('Reference', 'ref', 'Reference already exists', 'already_exists');
  await git(dir, ['update-ref', ref, sha, ZERO_SHA]);
  await deliverPushes(ctx, full, before, await listRefs(dir), req.login);
  return { status: 201, body: refShape(ctx, full, ref, sha), headers: { location: `${ctx.urls.api}/repos/${full}/git/${ref}` } };
}

async function updateRef(ctx: Ctx, full: string, name: string, req: ApiRequest): Promise<Reply> {
  const dir = ctx.repoDir(full);
  if (!/^(heads|tags)\//.test(name) || !safeRev(name)) throw notFound();
  const ref = `refs/${name}`;
  const b = bodyObject(req, 'Reference');
  const sha = str(b, 'Reference', 'sha', { required: true }) as string;
  const force = field(b, 'force') === true;
  const before = await listRefs(dir);
  const old = before.get(ref);
  if (!old) throw new StandInError(422, 'Reference does not exist');
  if (!SHA.test(sha) || !(await resolveCommit(dir, sha))) throw invalid('Reference', 'sha', `Object does not exist: ${sha}`);
  if (!force && !(await isAncestor(dir, old, sha))) throw new StandInError(422, 'Update is not a fast forward');
  await git(dir, ['update-ref', ref, sha, old]);
  await deliverPushes(ctx, full, before, await listRefs(dir), req.login);
  return { status: 200, body: refShape(ctx, full, ref, sha) };
}

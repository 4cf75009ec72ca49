// POST .../repositories/{repo}/pushes: ADO's way of committing without a clone. One push carries
// refUpdates ([{name, oldObjectId}], the old id a lease: zeros to create the branch) and commits
// whose changes (add, edit, delete) apply to the first parent's tree. Written into the bare
// repository with a scratch index, so a later zip, diff or clone sees the files; then the same
// git.push hook and pull request updates as a pushed commit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZERO, git, readCommit, refs, resolve } from './git.ts';
import { STANDIN_USER, commitJson, repositoryJson, type Identity, type RepoKey } from './model.ts';
import { HttpError, type AdoState } from './state.ts';

const CHANGE_TYPES = new Map<unknown, 'add' | 'edit' | 'delete'>([[1, 'add'], ['add', 'add'], [2, 'edit'], ['edit', 'edit'], [16, 'delete'], ['delete', 'delete']]);
const MAX_CHANGES = 10_000;
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function hashObject(dir: string, bytes: Buffer): Promise<string> {
  return git(dir, ['hash-object', '-w', '--stdin'], { input: bytes }).then((s) => s.trim());
}

function itemPath(v: unknown, field: string): string {
  const p = typeof v === 'string' ? v.replace(/^\/+/, '') : '';
  if (!p || p.length > 4096 || p.includes('\0') || p.split('/').some((s) => s === '' || s === '.' || s === '..' || s === '.git')) {
    throw new HttpError(400, `${field}: '${String(v).slice(0, 100)}' is not a repository path`);
  }
  return p;
}

async function exists(dir: string, env: Record<string, string>, path: string): Promise<boolean> {
  return (await git(dir, ['ls-files', '--cached', '--', path], { env })).trim() === path;
}

/** One commit: the parent's tree with the changes applied. */
async function writeCommit(dir: string, c: Record<string, unknown>, i: number, parent: string | undefined, who: Identity): Promise<string> {
  const changes = Array.isArray(c.changes) ? c.changes.map(obj) : [];
  if (changes.length === 0) throw new HttpError(400, `commits[${i}].changes: a commit needs at least one change`);
  if (changes.length > MAX_CHANGES) throw new HttpError(400, `commits[${i}].changes: more than ${MAX_CHANGES}`);
  if (typeof c.comment !== 'string' || !c.comment) throw new HttpError(400, `commits[${i}].comment: a commit needs a message`);
  const scratch = await mkdtemp(join(tmpdir(), 'ado-push-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    await git(dir, parent ? ['read-tree', parent] : ['read-tree', '--empty'], { env });
    for (const [j, ch] of changes.entries()) {
      const field = `commits[${i}].changes[${j}]`;
      const type = CHANGE_TYPES.get(typeof ch.changeType === 'string' ? ch.changeType.toLowerCase() : ch.changeType);
      if (!type) throw new HttpError(400, `${field}.changeType: '${String(ch.changeType)}' is not add, edit or delete`);
      const path = itemPath(obj(ch.item).path, `${field}.item.path`);
      const there = await exists(dir, env, path);
      // ADO refuses an add over an existing file and an edit or delete of a missing one.
      if (type === 'add' && there) throw new HttpError(400, `${field}: TF402455: '/${path}' already exists (use edit)`, 'GitPushRejectedException');
      if (type !== 'add' && !there) throw new HttpError(400, `${field}: TF401174: '/${path}' does not exist`, 'GitItemNotFoundException');
      if (type === 'delete') {
        // Mode 0 removes the path (update-index --force-remove needs a work tree; this does not).
        await git(dir, ['update-index', '--index-info'], { env, input: `0 ${ZERO}\t${path}\n` });
        continue;
      }
      const content = obj(ch.newContent);
      if (typeof content.content !== 'string') throw new HttpError(400, `${field}.newContent.content: expected the file's text`);
      const kind = content.contentType ?? 'rawtext';
      const base64 = kind === 1 || (typeof kind === 'string' && kind.toLowerCase() === 'base64encoded');
      if (!base64 && !(kind === 0 || (typeof kind === 'string' && kind.toLowerCase() === 'rawtext'))) throw new HttpError(400, `${field}.newContent.contentType: rawtext or base64encoded`);
      const blob = await hashObject(dir, Buffer.from(content.content, base64 ? 'base64' : 'utf8'));
      await git(dir, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
    }
    const tree = (await git(dir, ['write-tree'], { env })).trim();
    const ident = { GIT_AUTHOR_NAME: who.displayName, GIT_AUTHOR_EMAIL: who.uniqueName, GIT_COMMITTER_NAME: who.displayName, GIT_COMMITTER_EMAIL: who.uniqueName };
    return (await git(dir, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', c.comment], { env: ident })).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function createPush(state: AdoState, k: RepoKey, body: unknown, who: Identity = STANDIN_USER): Promise<{ status: number; json: unknown }> {
  const b = obj(body);
  const updates = Array.isArray(b.refUpdates) ? b.refUpdates.map(obj) : [];
  const commits = Array.isArray(b.commits) ? b.commits.map(obj) : [];
  if (updates.length !== 1) throw new HttpError(400, 'refUpdates: the stand-in takes exactly one ref update per push');
  if (commits.length === 0) throw new HttpError(400, 'commits: a push needs at least one commit');
  const name = updates[0].name;
  if (typeof name !== 'string' || !/^refs\/heads\/[A-Za-z0-9._\/-]+$/.test(name) || name.includes('..')) throw new HttpError(400, 'refUpdates[0].name: expected refs/heads/<branch>');
  const oldObjectId = typeof updates[0].oldObjectId === 'string' ? updates[0].oldObjectId : ZERO;
  return state.exclusive(k, async () => {
    const dir = state.dir(k);
    const before = await refs(dir);
    const current = before.get(name) ?? ZERO;
    if (current !== oldObjectId) throw new HttpError(409, `TF401028: the reference '${name}' has already been updated by another client (it is at ${current}, not ${oldObjectId})`, 'GitReferenceStaleException');
    let tip = current === ZERO ? undefined : current;
    const made: string[] = [];
    for (const [i, c] of commits.entries()) {
      const parents = Array.isArray(c.parents) ? c.parents : tip ? [tip] : [];
      if (parents.length > 1 || parents.some((p) => typeof p !== 'string')) throw new HttpError(400, `commits[${i}].parents: at most one parent commit id`);
      const parent = parents[0] as string | undefined;
      if (parent !== undefined && !(await resolve(dir, parent))) throw new HttpError(400, `commits[${i}].parents[0]: ${parent} is not a commit of this repository`, 'GitCommitDoesNotExistException');
      tip = await writeCommit(dir, c, i, parent, who);
      made.push(tip);
    }
    // Non-fast-forward moves are allowed (ADO with the Force push permission): the lease above guards them.
    await git(dir, ['update-ref', name, tip!, current]);
    await state.pushed(k, before, who);
    const base = state.base();
    const shaped = [];
    for (const sha of made) {
      const c = await readCommit(dir, sha);
      if (c) shaped.push(commitJson(base, k, c));
    }
    return {
      status: 201,
      json: {
        pushId: state.id(), date: new Date().toISOString(), pushedBy: who, repository: repositoryJson(base, k),
        refUpdates: [{ name, oldObjectId: current, newObjectId: tip }], commits: shaped,
        url: `${repositoryJson(base, k).url}/pushes`,
      },
    };
  });
}

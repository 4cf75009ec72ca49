// REST routes over a repository's Git data: the repository, branches and refs, commits (REST and
// Git shapes, with the signature and signed payload), compare and the tarball.
import { StandInError, notFound, type Ctx } from './context.ts';
import { changedFiles, countBetween, lsTree, mergeBase, readBlob, readCommit, resolveCommit, revList, safeRev, tarball, type TreeEntry } from './git.ts';
import { dec, pageOf, type ApiRequest, type Reply } from './http.ts';
import { commitShape, fileShape, gitCommitShape, repoShape } from './shapes.ts';
import type { RepoMeta } from './store.ts';

async function commitOr404(ctx: Ctx, full: string, rev: string): Promise<string> {
  const sha = safeRev(rev) ? await resolveCommit(ctx.repoDir(full), rev) : undefined;
  if (!sha) throw new StandInError(404, `No commit found for SHA: ${rev}`);
  return sha;
}

/** Handles the route when it is one of these; undefined otherwise. */
export async function repoRoutes(ctx: Ctx, repo: RepoMeta, rest: string, req: ApiRequest): Promise<Reply | undefined> {
  const full = `${repo.owner}/${repo.name}`;
  const dir = ctx.repoDir(full);
  if (req.method !== 'GET') return undefined;
  if (rest === '') return { status: 200, body: repoShape(ctx.store, repo, ctx.urls) };

  let m = /^\/branches\/(.+)$/.exec(rest);
  if (m) {
    const name = dec(m[1]);
    const sha = safeRev(name) ? await resolveCommit(dir, `refs/heads/${name}`) : undefined;
    if (!sha) throw new StandInError(404, 'Branch not found');
    const c = await readCommit(dir, sha);
    return {
      status: 200,
      body: {
        name, commit: commitShape(ctx.store, full, c, ctx.urls), protected: false,
        _links: { self: `${ctx.urls.api}/repos/${full}/branches/${name}`, html: `${ctx.urls.html}/${full}/tree/${name}` },
      },
    };
  }

  m = /^\/git\/refs?\/(.+)$/.exec(rest);
  if (m) {
    const ref = dec(m[1]);
    if (!/^(heads|tags)\//.test(ref) || !safeRev(ref)) throw notFound();
    const sha = await resolveCommit(dir, `refs/${ref}`);
    if (!sha) throw notFound();
    return {
      status: 200,
      body: { ref: `refs/${ref}`, node_id: Buffer.from(`Ref:${full}:${ref}`).toString('base64'), url: `${ctx.urls.api}/repos/${full}/git/refs/${ref}`, object: { sha, type: 'commit', url: `${ctx.urls.api}/repos/${full}/git/commits/${sha}` } },
    };
  }

  m = /^\/git\/commits\/([^/]+)$/.exec(rest);
  if (m) {
    const sha = dec(m[1]);
    if (!/^[0-9a-f]{40}$/.test(sha)) throw notFound();
    const found = await resolveCommit(dir, sha);
    if (!found) throw notFound();
    return { status: 200, body: gitCommitShape(full, await readCommit(dir, found), ctx.urls) };
  }

  m = /^\/commits\/(.+)$/.exec(rest);
  if (m) {
    const sha = await commitOr404(ctx, full, dec(m[1]));
    const c = await readCommit(dir, sha);
    return { status: 200, body: commitShape(ctx.store, full, c, ctx.urls, await changedFiles(dir, c.parents[0], sha)) };
  }

  m = /^\/compare\/(.+)$/.exec(rest);
  if (m) return compare(ctx, full, dec(m[1]), req);

  m = /^\/contents(?:\/(.*))?$/.exec(rest);
  if (m) return contents(ctx, repo, m[1] ? dec(m[1]) : '', req);

  m = /^\/tarball(?:\/(.+))?$/.exec(rest);
  if (m) {
    const sha = await commitOr404(ctx, full, m[1] ? dec(m[1]) : `refs/heads/${repo.defaultBranch}`);
    const prefix = `${repo.owner}-${repo.name}-${sha.slice(0, 7)}`;
    return {
      status: 200,
      raw: await tarball(dir, sha, prefix),
      headers: { 'content-type': 'application/x-gzip', 'content-disposition': `attachment; filename=${prefix}.tar.gz` },
    };
  }
  return undefined;
}

async function compare(ctx: Ctx, full: string, spec: string, req: ApiRequest): Promise<Reply> {
  const i = spec.indexOf('...');
  if (i <= 0 || i + 3 >= spec.length) throw new StandInError(404, 'Not Found (compare takes {base}...{head})');
  const dir = ctx.repoDir(full);
  const base = await commitOr404(ctx, full, spec.slice(0, i));
  const head = await commitOr404(ctx, full, spec.slice(i + 3));
  const mb = await mergeBase(dir, base, head);
  const ahead = await countBetween(dir, base, head);
  const behind = await countBetween(dir, head, base);
  const status = ahead === 0 && behind === 0 ? 'identical' : behind === 0 ? 'ahead' : ahead === 0 ? 'behind' : 'diverged';
  const ids = await revList(dir, head, [base]);
  const page = pageOf(ids, req.url, 250, 250);
  const commits = await Promise.all(page.items.map(async (id) => commitShape(ctx.store, full, await readCommit(dir, id), ctx.urls)));
  const files = await changedFiles(dir, mb ?? base, head);
  const shaped = async (sha: string) => commitShape(ctx.store, full, await readCommit(dir, sha), ctx.urls);
  return {
    status: 200,
    headers: page.headers,
    body: {
      url: `${ctx.urls.api}/repos/${full}/compare/${spec}`, html_url: `${ctx.urls.html}/${full}/compare/${spec}`,
      permalink_url: `${ctx.urls.html}/${full}/compare/${base.slice(0, 7)}...${head.slice(0, 7)}`,
      diff_url: `${ctx.urls.html}/${full}/compare/${spec}.diff`, patch_url: `${ctx.urls.html}/${full}/compare/${spec}.patch`,
      base_commit: await shaped(base), merge_base_commit: mb ? await shaped(mb) : null,
      status, ahead_by: ahead, behind_by: behind, total_commits: ahead,
      commits, files: files.map((f) => fileShape(full, head, f, ctx.urls)),
    },
  };
}

const MAX_INLINE = 1024 * 1024;

/** GET /repos/{o}/{r}/contents/{path}?ref=: a file (base64, as GitHub wraps it) or a folder's entries. */
async function contents(ctx: Ctx, repo: RepoMeta, path: string, req: ApiRequest): Promise<Reply> {
  const full = `${repo.owner}/${repo.name}`;
  const dir = ctx.repoDir(full);
  const clean = path.replace(/\/+$/, '');
  if (clean.split('/').some((s) => s === '..' || s === '.') || clean.startsWith('/') || clean.includes('\0')) throw notFound();
  const ref = req.url.searchParams.get('ref') ?? `refs/heads/${repo.defaultBranch}`;
  const sha = await commitOr404(ctx, full, ref);
  const shape = (e: TreeEntry) => {
    const type = e.type === 'tree' ? 'dir' : e.type === 'commit' ? 'submodule' : e.mode === '120000' ? 'symlink' : 'file';
    const url = `${ctx.urls.api}/repos/${full}/contents/${e.path}?ref=${encodeURIComponent(ref)}`;
    return {
      type, name: e.path.split('/').pop() as string, path: e.path, sha: e.sha, size: e.size, url,
      html_url: `${ctx.urls.html}/${full}/blob/${sha}/${e.path}`, git_url: `${ctx.urls.api}/repos/${full}/git/${e.type === 'tree' ? 'trees' : 'blobs'}/${e.sha}`,
      download_url: type === 'file' ? `${ctx.urls.html}/${full}/raw/${sha}/${e.path}` : null,
      _links: { self: url, git: `${ctx.urls.api}/repos/${full}/git/blobs/${e.sha}`, html: `${ctx.urls.html}/${full}/blob/${sha}/${e.path}` },
    };
  };
  if (clean === '') return { status: 200, body: (await lsTree(dir, sha, '', true)).map(shape) };
  const [entry] = await lsTree(dir, sha, clean, false);
  if (!entry || entry.path !== clean) throw notFound();
  if (entry.type === 'tree') return { status: 200, body: (await lsTree(dir, sha, clean, true)).map(shape) };
  if (entry.type !== 'blob') return { status: 200, body: shape(entry) };
  const big = entry.size > MAX_INLINE;
  const content = big ? '' : (await readBlob(dir, entry.sha)).toString('base64').replace(/.{60}/g, '$&\n');
  return { status: 200, body: { ...shape(entry), content, encoding: big ? 'none' : 'base64' } };
}

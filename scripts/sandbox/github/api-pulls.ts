// REST routes of pull requests: open, read, list, close / reopen, merge (a real merge commit in the
// bare repository, then `push` and `pull_request` closed) and reviews. Each delivers the webhook
// GitHub delivers for it.
import { StandInError, invalid, notFound, type Ctx } from './context.ts';
import { commitTree, isAncestor, listRefs, mergeTree, readCommit, resolveCommit, revList, safeRev, updateRef } from './git.ts';
import { bodyObject, field, oneOf, pageOf, positiveInt, str, type ApiRequest, type Reply } from './http.ts';
import { baseSha, deliverPull, deliverPushes, deliverReview, now } from './events.ts';
import { commitShape, pullShape, reviewShape } from './shapes.ts';
import type { PullRequest, RepoMeta, Review } from './store.ts';

const MAX_TEXT = 65536;

export async function pullRoutes(ctx: Ctx, repo: RepoMeta, rest: string, req: ApiRequest): Promise<Reply | undefined> {
  const full = `${repo.owner}/${repo.name}`;
  if (rest === '/pulls') {
    if (req.method === 'POST') return ctx.withLock(full, () => openPull(ctx, repo, req));
    if (req.method === 'GET') return listPulls(ctx, full, req);
    return undefined;
  }
  const m = /^\/pulls\/([^/]+)(\/merge|\/reviews|\/commits)?$/.exec(rest);
  if (!m) return undefined;
  const p = ctx.store.pull(full, positiveInt(m[1], 'the pull request number'));
  if (!p) throw notFound();
  const sub = m[2] ?? '';
  if (sub === '' && req.method === 'GET') return { status: 200, body: await fullPull(ctx, p) };
  if (sub === '' && req.method === 'PATCH') return ctx.withLock(full, () => patchPull(ctx, p, req));
  if (sub === '/merge' && req.method === 'PUT') return ctx.withLock(full, () => merge(ctx, p, req));
  if (sub === '/merge' && req.method === 'GET') return { status: p.merged ? 204 : 404 };
  if (sub === '/reviews' && req.method === 'POST') return review(ctx, p, req);
  if (sub === '/reviews' && req.method === 'GET') {
    const page = pageOf(ctx.store.reviews.filter((r) => r.repo === full && r.number === p.number), req.url);
    return { status: 200, headers: page.headers, body: page.items.map((r) => reviewShape(ctx.store, r, ctx.urls)) };
  }
  if (sub === '/commits' && req.method === 'GET') {
    const dir = ctx.repoDir(full);
    const ids = await revList(dir, p.headSha, [await baseSha(ctx, p)]);
    const page = pageOf(ids, req.url, 30, 100);
    return { status: 200, headers: page.headers, body: await Promise.all(page.items.map(async (id) => commitShape(ctx.store, full, await readCommit(dir, id), ctx.urls))) };
  }
  return undefined;
}

async function fullPull(ctx: Ctx, p: PullRequest) {
  const dir = ctx.repoDir(p.repo);
  const base = await baseSha(ctx, p);
  const mergeable = p.state === 'open' ? (await mergeTree(dir, base, p.headSha)) !== undefined : null;
  const commits = (await revList(dir, p.headSha, [base])).length;
  return pullShape(ctx.store, p, base, ctx.urls, { mergeable, commits });
}

async function openPull(ctx: Ctx, repo: RepoMeta, req: ApiRequest): Promise<Reply> {
  const full = `${repo.owner}/${repo.name}`;
  const b = bodyObject(req, 'PullRequest');
  const title = str(b, 'PullRequest', 'title', { required: true, max: 256 }) as string;
  let head = str(b, 'PullRequest', 'head', { required: true }) as string;
  const base = str(b, 'PullRequest', 'base', { required: true }) as string;
  const body = str(b, 'PullRequest', 'body', { max: MAX_TEXT }) ?? null;
  const draft = field(b, 'draft') === true;
  if (head.includes(':')) {
    const [owner, branch] = head.split(':', 2);
    if (owner !== repo.owner) throw invalid('PullRequest', 'head', `head ${head} is not a branch of ${full} (forks are not supported by the stand-in)`);
    head = branch;
  }
  const dir = ctx.repoDir(full);
  const headSha = safeRev(head) ? await resolveCommit(dir, `refs/heads/${head}`) : undefined;
  if (!headSha) throw invalid('PullRequest', 'head', `head branch ${head} does not exist`);
  const baseTip = safeRev(base) ? await resolveCommit(dir, `refs/heads/${base}`) : undefined;
  if (!baseTip) throw invalid('PullRequest', 'base', `base branch ${base} does not exist`);
  if (await isAncestor(dir, headSha, baseTip)) throw invalid('PullRequest', 'head', `No commits between ${base} and ${head}`, 'custom');
  if (ctx.store.pulls.some((p) => p.repo === full && p.state === 'open' && p.head === head && p.base === base)) {
    throw invalid('PullRequest', 'head', `A pull request already exists for ${repo.owner}:${head}.`, 'custom');
  }
  const at = now();
  const p: PullRequest = {
    repo: full, number: ctx.store.nextNumber(full), id: ctx.store.id(), title, body, user: req.login, head, base, headSha,
    draft, state: 'open', merged: false, createdAt: at, updatedAt: at,
  };
  ctx.store.pulls.push(p);
  ctx.store.save();
  await deliverPull(ctx, p, 'opened', req.login);
  return { status: 201, body: await fullPull(ctx, p), headers: { location: `${ctx.urls.api}/repos/${full}/pulls/${p.number}` } };
}

async function listPulls(ctx: Ctx, full: string, req: ApiRequest): Promise<Reply> {
  const state = req.url.searchParams.get('state') ?? 'open';
  if (!['open', 'closed', 'all'].includes(state)) throw invalid('PullRequest', 'state', 'state must be open, closed or all');
  const head = req.url.searchParams.get('head');
  const base = req.url.searchParams.get('base');
  const list = ctx.store.pulls
    .filter((p) => p.repo === full && (state === 'all' || p.state === state))
    .filter((p) => !head || `${full.split('/')[0]}:${p.head}` === head || p.head === head)
    .filter((p) => !base || p.base === base)
    .sort((a, b) => b.number - a.number);
  const page = pageOf(list, req.url);
  const bodies = await Promise.all(page.items.map(async (p) => pullShape(ctx.store, p, await baseSha(ctx, p), ctx.urls)));
  return { status: 200, headers: page.headers, body: bodies };
}

async function patchPull(ctx: Ctx, p: PullRequest, req: ApiRequest): Promise<Reply> {
  const b = bodyObject(req, 'PullRequest');
  const title = str(b, 'PullRequest', 'title', { max: 256 });
  const body = str(b, 'PullRequest', 'body', { max: MAX_TEXT });
  const state = oneOf(b, 'PullRequest', 'state', ['open', 'closed'] as const);
  if (title !== undefined) p.title = title;
  if (body !== undefined) p.body = body;
  let action: string | undefined = title !== undefined || body !== undefined ? 'edited' : undefined;
  if (state && state !== p.state) {
    if (p.merged) throw invalid('PullRequest', 'state', 'a merged pull request cannot be reopened', 'custom');
    if (state === 'open') {
      const sha = await resolveCommit(ctx.repoDir(p.repo), `refs/heads/${p.head}`);
      if (!sha) throw invalid('PullRequest', 'state', `the head branch ${p.head} no longer exists`, 'custom');
      p.headSha = sha;
      p.closedAt = undefined;
    } else {
      p.closedAt = now();
    }
    p.state = state;
    action = state === 'open' ? 'reopened' : 'closed';
  }
  p.updatedAt = now();
  ctx.store.save();
  if (action) await deliverPull(ctx, p, action, req.login);
  return { status: 200, body: await fullPull(ctx, p) };
}

async function merge(ctx: Ctx, p: PullRequest, req: ApiRequest): Promise<Reply> {
  const b = bodyObject(req, 'PullRequest');
  const method = oneOf(b, 'PullRequest', 'merge_method', ['merge', 'squash', 'rebase'] as const) ?? 'merge';
  const expected = str(b, 'PullRequest', 'sha');
  if (method === 'rebase') throw invalid('PullRequest', 'merge_method', 'the stand-in merges with merge or squash only');
  if (p.state !== 'open') throw new StandInError(405, 'Pull Request is not mergeable');
  const dir = ctx.repoDir(p.repo);
  const refs = await listRefs(dir);
  const headSha = refs.get(`refs/heads/${p.head}`);
  const baseTip = refs.get(`refs/heads/${p.base}`);
  if (!headSha || !baseTip) throw new StandInError(405, 'Pull Request is not mergeable (a branch is missing)');
  if (expected !== undefined && expected !== headSha) throw new StandInError(409, 'Head branch was modified. Review and try the merge again.');
  const tree = await mergeTree(dir, baseTip, headSha);
  if (!tree) throw new StandInError(405, 'Pull Request is not mergeable');
  const user = ctx.store.users.get(req.login);
  const who = { name: user?.name ?? req.login, email: user?.email ?? `${req.login}@users.noreply.standin` };
  const title = str(b, 'PullRequest', 'commit_title') ?? (method === 'squash' ? `${p.title} (#${p.number})` : `Merge pull request #${p.number} from ${p.repo.split('/')[0]}/${p.head}`);
  const message = str(b, 'PullRequest', 'commit_message') ?? (method === 'squash' ? '' : p.title);
  const sha = await commitTree(dir, tree, method === 'squash' ? [baseTip] : [baseTip, headSha], message ? `${title}\n\n${message}` : title, who);
  await updateRef(dir, `refs/heads/${p.base}`, sha, baseTip);
  const at = now();
  Object.assign(p, { state: 'closed', merged: true, mergedBy: req.login, mergeCommitSha: sha, mergedAt: at, closedAt: at, updatedAt: at, headSha });
  ctx.store.save();
  await deliverPushes(ctx, p.repo, refs, await listRefs(dir), req.login);
  await deliverPull(ctx, p, 'closed', req.login);
  return { status: 200, body: { sha, merged: true, message: 'Pull Request successfully merged' } };
}

async function review(ctx: Ctx, p: PullRequest, req: ApiRequest): Promise<Reply> {
  const b = bodyObject(req, 'PullRequestReview');
  const event = oneOf(b, 'PullRequestReview', 'event', ['APPROVE', 'REQUEST_CHANGES', 'COMMENT'] as const);
  const body = str(b, 'PullRequestReview', 'body', { max: MAX_TEXT }) ?? '';
  const commitId = str(b, 'PullRequestReview', 'commit_id') ?? p.headSha;
  if (p.state !== 'open' && event) throw invalid('PullRequestReview', 'event', 'the pull request is closed', 'custom');
  if (event === 'APPROVE' && req.login === p.user) throw invalid('PullRequestReview', 'event', 'Can not approve your own pull request', 'custom');
  if ((event === 'REQUEST_CHANGES' || event === 'COMMENT') && !body) throw invalid('PullRequestReview', 'body', `body is required for ${event}`, 'missing_field');
  const state: Review['state'] = event === 'APPROVE' ? 'APPROVED' : event === 'REQUEST_CHANGES' ? 'CHANGES_REQUESTED' : event === 'COMMENT' ? 'COMMENTED' : 'PENDING';
  const r: Review = { id: ctx.store.id(), repo: p.repo, number: p.number, user: req.login, body, state, commitId, submittedAt: event ? now() : undefined };
  ctx.store.reviews.push(r);
  ctx.store.save();
  if (event) await deliverReview(ctx, p, r);
  return { status: 200, body: reviewShape(ctx.store, r, ctx.urls) };
}

// REST routes of commit statuses (what a token without check-run rights writes instead of a check
// run): POST /statuses/{sha}, GET /commits/{ref}/statuses (newest first) and the combined
// GET /commits/{ref}/status (the latest status per context).
import { invalid, notFound, type Ctx } from './context.ts';
import { resolveCommit, safeRev } from './git.ts';
import { bodyObject, dec, oneOf, pageOf, str, type ApiRequest, type Reply } from './http.ts';
import { now } from './events.ts';
import { userOf, type Urls } from './shapes.ts';
import type { CommitStatus, RepoMeta, Store } from './store.ts';

const STATES = ['error', 'failure', 'pending', 'success'] as const;

function shape(store: Store, s: CommitStatus, urls: Urls) {
  return {
    url: `${urls.api}/repos/${s.repo}/statuses/${s.sha}`, id: s.id, node_id: Buffer.from(`StatusContext:${s.id}`).toString('base64'),
    state: s.state, description: s.description, target_url: s.targetUrl, context: s.context, avatar_url: null,
    created_at: s.createdAt, updated_at: s.updatedAt, creator: userOf(store, s.creator, urls),
  };
}

export async function statusRoutes(ctx: Ctx, repo: RepoMeta, rest: string, req: ApiRequest): Promise<Reply | undefined> {
  const full = `${repo.owner}/${repo.name}`;
  let m = /^\/statuses\/([^/]+)$/.exec(rest);
  if (m && req.method === 'POST') {
    const sha = dec(m[1]);
    if (!/^[0-9a-f]{40}$/.test(sha) || !(await resolveCommit(ctx.repoDir(full), sha))) throw invalid('Status', 'sha', `${sha} is not a commit of ${full}`);
    const b = bodyObject(req, 'Status');
    const state = oneOf(b, 'Status', 'state', STATES);
    if (!state) throw invalid('Status', 'state', 'state is required', 'missing_field');
    const at = now();
    const s: CommitStatus = {
      id: ctx.store.id(), repo: full, sha, state, context: str(b, 'Status', 'context', { max: 255 }) ?? 'default',
      description: str(b, 'Status', 'description', { max: 1024 }) ?? null, targetUrl: str(b, 'Status', 'target_url', { max: 2048 }) ?? null,
      creator: req.login, createdAt: at, updatedAt: at,
    };
    ctx.store.statuses.push(s);
    ctx.store.save();
    return { status: 201, body: shape(ctx.store, s, ctx.urls) };
  }
  m = /^\/commits\/(.+)\/(statuses|status)$/.exec(rest);
  if (m && req.method === 'GET') {
    const ref = dec(m[1]);
    const sha = safeRev(ref) ? await resolveCommit(ctx.repoDir(full), ref) : undefined;
    if (!sha) throw notFound();
    const all = ctx.store.statuses.filter((s) => s.repo === full && s.sha === sha).sort((a, b) => b.id - a.id);
    if (m[2] === 'statuses') {
      const page = pageOf(all, req.url);
      return { status: 200, headers: page.headers, body: page.items.map((s) => shape(ctx.store, s, ctx.urls)) };
    }
    const latest = new Map<string, CommitStatus>();
    for (const s of all) if (!latest.has(s.context)) latest.set(s.context, s);
    const states = [...latest.values()].map((s) => s.state);
    const state = states.some((s) => s === 'error' || s === 'failure') ? 'failure' : states.length && states.every((s) => s === 'success') ? 'success' : 'pending';
    return {
      status: 200,
      body: { state, sha, total_count: latest.size, statuses: [...latest.values()].map((s) => shape(ctx.store, s, ctx.urls)), commit_url: `${ctx.urls.api}/repos/${full}/commits/${sha}` },
    };
  }
  return undefined;
}

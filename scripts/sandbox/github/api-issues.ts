// REST routes of issue comments (on pull requests: their numbers are issue numbers) and check
// runs. A comment keeps its id when edited; updated_at moves. GitHub's limits are kept: a comment
// body holds at most 65,536 characters, a check run's output summary / text 65,535 (422 beyond).
import { invalid, notFound, type Ctx } from './context.ts';
import { resolveCommit, safeRev } from './git.ts';
import { bodyObject, dec, field, oneOf, pageOf, positiveInt, str, type ApiRequest, type Reply } from './http.ts';
import { now } from './events.ts';
import { checkRunShape, commentShape } from './shapes.ts';
import type { CheckRun, Comment, RepoMeta } from './store.ts';

const MAX_BODY = 65536;
const MAX_CHECK_TEXT = 65535;
const STATUSES = ['queued', 'in_progress', 'completed'] as const;
const CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'] as const;

export async function issueRoutes(ctx: Ctx, repo: RepoMeta, rest: string, req: ApiRequest): Promise<Reply | undefined> {
  const full = `${repo.owner}/${repo.name}`;
  let m = /^\/issues\/([^/]+)\/comments$/.exec(rest);
  if (m) {
    const number = positiveInt(m[1], 'the issue number');
    if (!ctx.store.pull(full, number)) throw notFound();
    if (req.method === 'GET') {
      const list = ctx.store.comments.filter((c) => c.repo === full && c.number === number);
      const page = pageOf(list, req.url);
      return { status: 200, headers: page.headers, body: page.items.map((c) => commentShape(ctx.store, c, ctx.urls)) };
    }
    if (req.method === 'POST') {
      const body = str(bodyObject(req, 'IssueComment'), 'IssueComment', 'body', { required: true, max: MAX_BODY }) as string;
      const at = now();
      const c: Comment = { id: ctx.store.id(), repo: full, number, user: req.login, body, createdAt: at, updatedAt: at };
      ctx.store.comments.push(c);
      ctx.store.save();
      return { status: 201, body: commentShape(ctx.store, c, ctx.urls), headers: { location: `${ctx.urls.api}/repos/${full}/issues/comments/${c.id}` } };
    }
    return undefined;
  }
  m = /^\/issues\/comments\/([^/]+)$/.exec(rest);
  if (m) {
    const id = positiveInt(m[1], 'the comment id');
    const c = ctx.store.comments.find((x) => x.repo === full && x.id === id);
    if (!c) throw notFound();
    if (req.method === 'GET') return { status: 200, body: commentShape(ctx.store, c, ctx.urls) };
    if (req.method === 'PATCH') {
      c.body = str(bodyObject(req, 'IssueComment'), 'IssueComment', 'body', { required: true, max: MAX_BODY }) as string;
      c.updatedAt = laterThan(c.updatedAt);
      ctx.store.save();
      return { status: 200, body: commentShape(ctx.store, c, ctx.urls) };
    }
    if (req.method === 'DELETE') {
      ctx.store.comments.splice(ctx.store.comments.indexOf(c), 1);
      ctx.store.save();
      return { status: 204 };
    }
    return undefined;
  }
  if (rest === '/check-runs' && req.method === 'POST') return createCheck(ctx, full, req);
  m = /^\/check-runs\/([^/]+)$/.exec(rest);
  if (m) {
    const run = ctx.store.checkRuns.find((r) => r.repo === full && r.id === positiveInt(m?.[1] ?? '', 'the check run id'));
    if (!run) throw notFound();
    if (req.method === 'GET') return { status: 200, body: checkRunShape(run, ctx.urls) };
    if (req.method === 'PATCH') {
      applyCheck(run, bodyObject(req, 'CheckRun'));
      ctx.store.save();
      return { status: 200, body: checkRunShape(run, ctx.urls) };
    }
    return undefined;
  }
  m = /^\/commits\/(.+)\/check-runs$/.exec(rest);
  if (m && req.method === 'GET') {
    const ref = dec(m[1]);
    const sha = safeRev(ref) ? await resolveCommit(ctx.repoDir(full), ref) : undefined;
    if (!sha) throw notFound();
    const name = req.url.searchParams.get('check_name');
    const status = req.url.searchParams.get('status');
    const list = ctx.store.checkRuns
      .filter((r) => r.repo === full && r.headSha === sha && (!name || r.name === name) && (!status || r.status === status))
      .sort((a, b) => b.id - a.id);
    const page = pageOf(list, req.url);
    return { status: 200, headers: page.headers, body: { total_count: list.length, check_runs: page.items.map((r) => checkRunShape(r, ctx.urls)) } };
  }
  return undefined;
}

/** A timestamp after `prev` (seconds resolution, as GitHub's): an edit always moves updated_at. */
function laterThan(prev: string): string {
  const t = Math.max(Date.now(), Date.parse(prev) + 1000);
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

async function createCheck(ctx: Ctx, full: string, req: ApiRequest): Promise<Reply> {
  const b = bodyObject(req, 'CheckRun');
  const name = str(b, 'CheckRun', 'name', { required: true, max: 256 }) as string;
  const headSha = str(b, 'CheckRun', 'head_sha', { required: true }) as string;
  if (!/^[0-9a-f]{40}$/.test(headSha) || !(await resolveCommit(ctx.repoDir(full), headSha))) {
    throw invalid('CheckRun', 'head_sha', `head_sha ${headSha} is not a commit of ${full}`);
  }
  const run: CheckRun = {
    id: ctx.store.id(), repo: full, name, headSha, status: 'queued', conclusion: null, detailsUrl: null, externalId: null,
    startedAt: now(), completedAt: null, output: { title: null, summary: null, text: null }, app: req.login,
  };
  applyCheck(run, b);
  ctx.store.checkRuns.push(run);
  ctx.store.save();
  return { status: 201, body: checkRunShape(run, ctx.urls) };
}

/** Applies a create / update body; checks every field before changing anything. */
function applyCheck(run: CheckRun, b: Record<string, unknown>): void {
  const status = oneOf(b, 'CheckRun', 'status', STATUSES);
  const conclusion = oneOf(b, 'CheckRun', 'conclusion', CONCLUSIONS);
  const detailsUrl = str(b, 'CheckRun', 'details_url');
  const externalId = str(b, 'CheckRun', 'external_id');
  const startedAt = str(b, 'CheckRun', 'started_at');
  const completedAt = str(b, 'CheckRun', 'completed_at');
  const name = str(b, 'CheckRun', 'name', { max: 256 });
  const outRaw = field(b, 'output');
  let output: CheckRun['output'] | undefined;
  if (outRaw !== undefined) {
    if (typeof outRaw !== 'object' || outRaw === null || Array.isArray(outRaw)) throw invalid('CheckRun', 'output', 'output must be an object');
    const o = outRaw as Record<string, unknown>;
    output = {
      title: str(o, 'CheckRun', 'title', { required: true }) as string,
      summary: str(o, 'CheckRun', 'summary', { required: true, max: MAX_CHECK_TEXT }) as string,
      text: str(o, 'CheckRun', 'text', { max: MAX_CHECK_TEXT }) ?? null,
    };
  }
  const finalStatus = conclusion ? 'completed' : status ?? run.status;
  if (finalStatus === 'completed' && !conclusion && !run.conclusion) throw invalid('CheckRun', 'conclusion', 'conclusion is required when status is completed', 'missing_field');
  if (name !== undefined) run.name = name;
  if (detailsUrl !== undefined) run.detailsUrl = detailsUrl;
  if (externalId !== undefined) run.externalId = externalId;
  if (startedAt !== undefined) run.startedAt = startedAt;
  if (output) run.output = output;
  run.status = finalStatus;
  if (conclusion) run.conclusion = conclusion;
  if (finalStatus === 'completed') run.completedAt = completedAt ?? run.completedAt ?? now();
}

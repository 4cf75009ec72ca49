// The reconciler's REST resources: stacks and runs, manual reconciles, the kill switch,
// approvals and the rate-limit override. Roles are checked by the service (functions/reconcile/service.ts).
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.ts';
import { apiApp, json, problems, type ApiApp } from '../openapi.ts';
import { ProblemError } from '../problem.ts';
import { authorize, type Action, type ReconcileService } from '../../reconcile/service.ts';
import type { MiddlewareHandler } from 'hono';
import type { AuthEnv } from '../auth.ts';
import { isContinuationToken } from '../../platform/tables.ts';
import { statusOf } from '../../platform/errors.ts';

import {
  ApprovalListSchema, ApprovedSchema, KillSwitchSchema, OverrideSchema, RateLimitsSchema, ReconcileQueuedSchema, ReconcileResultSchema,
  RejectedSchema, RunDetailSchema, RunPageSchema, StackListSchema,
} from '../schemas/reconcile.ts';

// Shared with routes/drift.ts, which names stacks and runs the same way.
export const STACK = /^[A-Za-z0-9][A-Za-z0-9._-]{0,89}$/;
export const RUN_ID = /^[0-9]{16}-[0-9a-f]{8}$/;
export const StackParam = z.object({ stack: z.string().regex(STACK, 'stack must be 1-90 letters, digits, . _ or -').openapi({ param: { name: 'stack', in: 'path' }, example: 'alz' }) });
const IdParam = z.object({ id: z.string().regex(RUN_ID, 'id must be a run id such as 7204401456640999-bd2368e4').openapi({ param: { name: 'id', in: 'path' } }) });
const Paging = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  // Opaque: the cursor of the previous page, exactly as this API handed it out.
  cursor: z.string().refine(isContinuationToken, 'is not a cursor this API issued; pass the cursor of the previous page as it was').optional(),
});
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema } } });
/**
 * The role check ahead of the body's validation, so a caller who may not do this never has its
 * body read (the service checks again, for callers other than the API).
 */
const allowed = (action: Action): MiddlewareHandler<AuthEnv> => async (c, next) => {
  authorize(c.get('principal'), action);
  await next();
};

const routes = {
  stacks: createRoute({ method: 'get', path: '/api/v1/stacks', tags: ['reconcile'], summary: 'Stacks of the desired state with their last run', responses: { 200: json(StackListSchema, 'stacks'), ...problems(401, 403) } }),
  stackRuns: createRoute({ method: 'get', path: '/api/v1/stacks/{stack}/runs', tags: ['reconcile'], summary: "A stack's runs, newest first", request: { params: StackParam, query: Paging }, responses: { 200: json(RunPageSchema, 'runs'), ...problems(400, 401, 403) } }),
  runs: createRoute({ method: 'get', path: '/api/v1/runs', tags: ['reconcile'], summary: 'Runs of every stack, newest first', request: { query: Paging }, responses: { 200: json(RunPageSchema, 'runs'), ...problems(400, 401, 403) } }),
  run: createRoute({ method: 'get', path: '/api/v1/runs/{id}', tags: ['reconcile'], summary: 'One run: decision, every gate verdict, the preview and apply ChangeSets', request: { params: IdParam }, responses: { 200: json(RunDetailSchema, 'the run'), ...problems(400, 401, 403, 404) } }),
  reconcile: createRoute({
    method: 'post', path: '/api/v1/stacks/{stack}/reconcile', tags: ['reconcile'], summary: 'Reconcile a stack now (dry run: preview and gates only)',
    middleware: [allowed('dryRun')] as const,
    request: { params: StackParam, body: { required: false, content: { 'application/json': { schema: z.object({ dryRun: z.boolean().default(false), wait: z.boolean().default(false) }).strict() } } } },
    responses: { 200: json(ReconcileResultSchema, 'the finished run (wait: true)'), 202: json(ReconcileQueuedSchema, 'queued'), ...problems(400, 401, 403, 404) },
  }),
  killSwitch: createRoute({ method: 'get', path: '/api/v1/killswitch', tags: ['reconcile'], summary: 'The kill switch', responses: { 200: json(KillSwitchSchema, 'state'), ...problems(401, 403) } }),
  setKillSwitch: createRoute({
    method: 'put', path: '/api/v1/killswitch', tags: ['reconcile'], summary: 'Turn the kill switch on or off (Admin)',
    middleware: [allowed('killSwitch')] as const,
    request: { body: body(z.object({ on: z.boolean(), reason: z.string().min(1, 'reason must not be empty').max(500) }).strict()) },
    responses: { 200: json(KillSwitchSchema, 'state'), ...problems(400, 401, 403) },
  }),
  approvals: createRoute({
    method: 'get', path: '/api/v1/approvals', tags: ['reconcile'], summary: 'Approval requests (default: pending)',
    request: { query: z.object({ status: z.enum(['pending', 'approved', 'rejected', 'expired', 'superseded', 'applied', 'all']).default('pending') }) },
    responses: { 200: json(ApprovalListSchema, 'approvals'), ...problems(400, 401, 403) },
  }),
  approve: createRoute({ method: 'post', path: '/api/v1/approvals/{id}/approve', tags: ['reconcile'], summary: 'Approve a held run (never its commit author)', request: { params: IdParam }, responses: { 200: json(ApprovedSchema, 'approval recorded'), ...problems(400, 401, 403, 404, 409) } }),
  reject: createRoute({
    method: 'post', path: '/api/v1/approvals/{id}/reject', tags: ['reconcile'], summary: 'Reject a held run',
    middleware: [allowed('approve')] as const,
    request: { params: IdParam, body: body(z.object({ reason: z.string().min(1, 'reason must not be empty').max(500) }).strict()) },
    responses: { 200: json(RejectedSchema, 'rejected'), ...problems(400, 401, 403, 404, 409) },
  }),
  rateLimits: createRoute({ method: 'get', path: '/api/v1/ratelimits', tags: ['reconcile'], summary: 'Rate-limit counters and override', responses: { 200: json(RateLimitsSchema, 'counters'), ...problems(401, 403) } }),
  override: createRoute({
    method: 'put', path: '/api/v1/ratelimits/override', tags: ['reconcile'], summary: 'Emergency rate-limit override, time-boxed (Admin)',
    middleware: [allowed('rateLimitOverride')] as const,
    request: { body: body(z.object({ minutes: z.number().int().min(1), reason: z.string().min(1, 'reason must not be empty').max(500) }).strict()) },
    responses: { 200: json(OverrideSchema, 'override'), ...problems(400, 401, 403) },
  }),
  clearOverride: createRoute({ method: 'delete', path: '/api/v1/ratelimits/override', tags: ['reconcile'], summary: 'End the override early (Admin)', responses: { 204: { description: 'cleared' }, ...problems(401, 403, 404) } }),
};

/** A well-shaped cursor that storage still refuses (forged, or from another table) is the caller's to fix. */
async function paged<T>(cursor: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (cursor && statusOf((err as { cause?: unknown }).cause) === 400) {
      throw new ProblemError(400, 'query.cursor: storage refused this cursor; start again from the first page', { field: 'query.cursor' });
    }
    throw err;
  }
}

export function reconcileRoutes(deps: ApiDeps): ApiApp {
  const app = apiApp();
  // The composition root hands in the process's reconciler; an API without one cannot reconcile.
  const svc = async (): Promise<ReconcileService> => {
    if (!deps.reconcile) throw new ProblemError(503, 'this API has no reconciler');
    return deps.reconcile;
  };

  app.openapi(routes.stacks, async (c) => {
    authorize(c.get('principal'), 'read');
    return c.json({ stacks: await (await svc()).stacks() }, 200);
  });

  app.openapi(routes.stackRuns, async (c) => {
    authorize(c.get('principal'), 'read');
    const { stack } = c.req.valid('param');
    const q = c.req.valid('query');
    const s = await svc();
    return c.json(await paged(q.cursor, () => s.runs({ stack, limit: q.limit, cursor: q.cursor })), 200);
  });

  app.openapi(routes.runs, async (c) => {
    authorize(c.get('principal'), 'read');
    const q = c.req.valid('query');
    const s = await svc();
    return c.json(await paged(q.cursor, () => s.runs({ limit: q.limit, cursor: q.cursor })), 200);
  });

  app.openapi(routes.run, async (c) => {
    authorize(c.get('principal'), 'read');
    const { id } = c.req.valid('param');
    const found = await (await svc()).run(id);
    if (!found) throw new ProblemError(404, `no run '${id}'`);
    const d = found.detail;
    return c.json({ ...found.run, gates: d?.run.gates ?? found.run.gates, preview: d?.preview, apply: d?.apply, engineOutput: d?.engineOutput }, 200);
  });

  app.openapi(routes.reconcile, async (c) => {
    const principal = c.get('principal');
    const { stack } = c.req.valid('param');
    const opts = (c.req.valid('json') as { dryRun?: boolean; wait?: boolean } | undefined) ?? {};
    const s = await svc();
    authorize(principal, opts.dryRun ? 'dryRun' : 'reconcile');
    const known = (await s.stacks()).map((x) => x.stack);
    if (!known.includes(stack)) throw new ProblemError(404, `no stack '${stack}'; stacks: ${known.join(', ')}`, { field: 'path.stack' });
    const req = { stack, trigger: 'manual' as const, dryRun: !!opts.dryRun, leaseWaitMs: 10 * 60_000 };
    if (opts.wait) return c.json(await s.reconcile(principal, req), 200);
    void s.reconcile(principal, req).catch((err) => s.deps.logger.error({ stack, err: (err as Error).message }, 'manual reconcile failed'));
    return c.json({ status: 'queued' as const, stack, dryRun: !!opts.dryRun }, 202);
  });

  // Prometheus text for a scraper with a bearer token of any signed-in role (the app
  // authenticates every path outside PUBLIC_PATHS). The reconciler's own registry, whose gauges
  // kept in storage (kill switch, pending approvals) it reads at scrape time.
  app.get('/metrics', async (c) => {
    authorize(c.get('principal'), 'read');
    return (await svc()).deps.metrics.handler();
  });

  app.openapi(routes.killSwitch, async (c) => {
    authorize(c.get('principal'), 'read');
    return c.json(await (await svc()).killSwitch(), 200);
  });

  app.openapi(routes.setKillSwitch, async (c) => {
    const b = c.req.valid('json') as { on: boolean; reason: string };
    return c.json(await (await svc()).setKillSwitch(c.get('principal'), b.on, b.reason), 200);
  });

  app.openapi(routes.approvals, async (c) => {
    authorize(c.get('principal'), 'read');
    const { status } = c.req.valid('query');
    return c.json({ approvals: await (await svc()).approvals(status === 'all' ? undefined : status) }, 200);
  });

  app.openapi(routes.approve, async (c) => {
    const { id } = c.req.valid('param');
    const r = await (await svc()).approve(c.get('principal'), id, { reconcile: 'queue' });
    return c.json({ approval: r.approval, reconcileQueued: !!r.queued }, 200);
  });

  app.openapi(routes.reject, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json') as { reason: string };
    return c.json({ approval: await (await svc()).reject(c.get('principal'), id, reason) }, 200);
  });

  app.openapi(routes.rateLimits, async (c) => {
    authorize(c.get('principal'), 'read');
    return c.json(await (await svc()).rateLimits(), 200);
  });

  app.openapi(routes.override, async (c) => {
    const b = c.req.valid('json') as { minutes: number; reason: string };
    return c.json({ override: await (await svc()).overrideRateLimits(c.get('principal'), b.minutes, b.reason) }, 200);
  });

  app.openapi(routes.clearOverride, async (c) => {
    const cleared = await (await svc()).clearRateLimitOverride(c.get('principal'));
    if (!cleared) throw new ProblemError(404, 'no rate-limit override is active');
    return c.body(null, 204);
  });
  return app;
}

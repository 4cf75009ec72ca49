// GitOps's record: what each push, pull request and review delivery of the landing-zone
// repository led to (queued stacks, ignored and why, refused force pushes), newest first.
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.ts';
import { apiApp, json, problems, type ApiApp } from '../openapi.ts';
import { authorize } from '../../reconcile/service.ts';
import { GitOpsEventListSchema } from '../schemas/gitops.ts';

const route = createRoute({
  method: 'get', path: '/api/v1/gitops/events', tags: ['gitops'], summary: 'What GitOps did with each delivery, newest first',
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }) },
  responses: { 200: json(GitOpsEventListSchema, 'events (none when no landing-zone repository is configured)'), ...problems(400, 401, 403) },
});

export function gitopsRoutes(deps: ApiDeps): ApiApp {
  const app = apiApp();
  app.openapi(route, async (c) => {
    authorize(c.get('principal'), 'read');
    // Without a landing-zone repository (NEXUS_LANDING_ZONE_REPO) GitOps has done nothing.
    const events = deps.gitopsEvents ? await deps.gitopsEvents.recent(c.req.valid('query').limit) : [];
    return c.json({ events }, 200);
  });
  return app;
}

// Drift and compliance, read only: a stack's drift report (its latest, or the one of a run) and the
// compliance view of the management groups and subscriptions. Both come through ports the
// composition root hands in (ApiDeps.drift, ApiDeps.compliance); without one, its route answers 503.
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.ts';
import { apiApp, conforming, json, problems, type ApiApp } from '../openapi.ts';
import { ProblemError } from '../problem.ts';
import { authorize } from '../../reconcile/service.ts';
import { ComplianceViewSchema, DriftReportSchema } from '../schemas/drift.ts';
import { RUN_ID, StackParam } from './reconcile.ts';

/** A management group or subscription, as a full ARM id (a bare GUID could name either). */
const SCOPE = /^(\/providers\/Microsoft\.Management\/managementGroups\/[A-Za-z0-9._()-]{1,90}|\/subscriptions\/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/i;

const routes = {
  drift: createRoute({
    method: 'get', path: '/api/v1/stacks/{stack}/drift', tags: ['drift'], summary: "A stack's latest drift report, or the one made in a run",
    request: {
      params: StackParam,
      query: z.object({
        run: z.string().regex(RUN_ID, 'run must be a run id such as 7204401456640999-bd2368e4').optional()
          .openapi({ description: 'the run whose report to show (default: the latest report)' }),
      }),
    },
    responses: { 200: json(DriftReportSchema, 'the drift report'), ...problems(400, 401, 403, 404, 503) },
  }),
  compliance: createRoute({
    method: 'get', path: '/api/v1/compliance', tags: ['drift'], summary: 'Policy compliance per management group and subscription: counts per assignment, worst offenders',
    request: {
      query: z.object({
        scope: z.string().max(200).regex(SCOPE, 'scope must be a management group (/providers/Microsoft.Management/managementGroups/<name>) or a subscription (/subscriptions/<guid>)').optional()
          .openapi({ description: 'only this scope (default: every scope)', example: '/providers/Microsoft.Management/managementGroups/alz' }),
      }),
    },
    responses: { 200: json(ComplianceViewSchema, 'the compliance view'), ...problems(400, 401, 403, 503) },
  }),
};

export function driftRoutes(deps: ApiDeps): ApiApp {
  const app = apiApp();

  app.openapi(routes.drift, async (c) => {
    authorize(c.get('principal'), 'read');
    const { stack } = c.req.valid('param');
    const { run } = c.req.valid('query');
    if (!deps.drift) throw new ProblemError(503, 'drift reports are not configured on this API (no drift report store)');
    const report = await deps.drift.report(stack, run);
    if (!report) {
      throw run
        ? new ProblemError(404, `no drift report of run '${run}' of stack '${stack}'`, { field: 'query.run' })
        : new ProblemError(404, `no drift report of stack '${stack}' yet`, { field: 'path.stack' });
    }
    return c.json(conforming(DriftReportSchema, report, 'the drift report'), 200);
  });

  app.openapi(routes.compliance, async (c) => {
    authorize(c.get('principal'), 'read');
    const { scope } = c.req.valid('query');
    if (!deps.compliance) throw new ProblemError(503, 'the compliance view is not configured on this API (no Policy Insights source)');
    return c.json(conforming(ComplianceViewSchema, await deps.compliance(scope), 'the compliance view'), 200);
  });
  return app;
}

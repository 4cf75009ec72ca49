// Side-door routes of the change-history signals: Activity Log events of the Policy category (audits,
// denials, remediations as Azure Policy writes them) and Resource Graph's throttling quota.
//   POST /_sandbox/activity-log/events {events: [{resourceId, operation, caller, category?, correlationId?, status?, at?, properties?}]}
//   POST /_sandbox/resource-graph/quota {limit?, windowMs?}
import { z } from 'zod';
import { badRequest } from './errors.ts';
import { activityEventInput, toActivityEvent } from './log-analytics.ts';
import type { GraphQuota } from './graph-quota.ts';
import type { ActivityEvent, Tenant } from './tenant.ts';

const MAX_EVENTS = 1000;

function parse<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw badRequest('InvalidRequestContent', `body.${issue.path.join('.')}: ${issue.message}`);
  }
  return r.data;
}

/** Records Activity Log events (tests in the same process call this through the tenant). */
export function addActivityEvents(t: Tenant, events: unknown[]): ActivityEvent[] {
  const parsed = parse(z.array(activityEventInput).max(MAX_EVENTS), events).map(toActivityEvent);
  t.addActivity(parsed);
  return parsed;
}

/** The reply for one of these routes, or undefined when the path is another side-door route. */
export function handleHistorySideDoor(t: Tenant, quota: GraphQuota, method: string, path: string, body: unknown): { status: number; body?: unknown } | undefined {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  switch (route) {
    case 'POST /_sandbox/activity-log/events': {
      const b = parse(z.object({ events: z.array(z.unknown()) }), body);
      return { status: 200, body: { value: addActivityEvents(t, b.events) } };
    }
    case 'POST /_sandbox/resource-graph/quota': {
      const b = parse(z.object({ limit: z.number().int().min(0).optional(), windowMs: z.number().positive().optional() }), body);
      quota.set(b);
      return { status: 200, body: quota.options };
    }
    default:
      return undefined;
  }
}

// The Azure DevOps service hook notification as it arrives: { eventType, resource,
// resourceContainers, createdDate }. Shapes follow Microsoft's documented samples and the interfaces
// of azure-devops-node-api. Read leniently on purpose: a field of the wrong type counts as missing,
// and a needed field that is missing skips the delivery naming the field; nothing here throws.
import { z } from 'zod';

const opt = <T extends z.ZodType>(s: T) => s.nullish().catch(undefined);

const str = opt(z.string());
const num = opt(z.number());
const anyId = opt(z.union([z.number(), z.string()]));
const link = opt(z.looseObject({ href: str }));
const links = opt(z.looseObject({ web: link, html: link }));
const named = opt(z.looseObject({ id: anyId, name: str, url: str, _links: links }));

export const NotificationSchema = z.looseObject({
  eventType: str,
  createdDate: str,
  resource: opt(z.record(z.string(), z.unknown())),
  resourceContainers: opt(z.looseObject({ project: opt(z.looseObject({ id: str })) })),
});
export type Notification = z.infer<typeof NotificationSchema>;

/** build.complete: today's Build (status + result, sourceBranch, sourceVersion) or the 1.0 format (status is the result, sourceGetVersion). */
export const BuildSchema = z.looseObject({
  id: num,
  buildNumber: str,
  status: str,
  result: str,
  queueTime: str,
  startTime: str,
  finishTime: str,
  sourceBranch: str,
  sourceVersion: str,
  sourceGetVersion: str,
  definition: opt(z.looseObject({ id: anyId, name: str, _links: links, project: named })),
  project: named,
  _links: links,
});
export type Build = z.infer<typeof BuildSchema>;

const releaseRef = opt(z.looseObject({ id: num, name: str, _links: links, releaseDefinition: named }));

/** The release events: deployment started, approval pending, deployment completed. */
export const ReleaseEventSchema = z.looseObject({
  environment: opt(z.looseObject({ id: num, name: str, status: str, release: releaseRef, releaseDefinition: named })),
  deployment: opt(z.looseObject({
    id: num, attempt: num, deploymentStatus: str, queuedOn: str, startedOn: str, completedOn: str,
    release: releaseRef, releaseDefinition: named, releaseEnvironment: named,
  })),
  approval: opt(z.looseObject({ id: num, approvalType: str, createdOn: str, release: named, releaseDefinition: named, releaseEnvironment: named })),
  release: releaseRef,
  project: named,
});
export type ReleaseEvent = z.infer<typeof ReleaseEventSchema>;

const fields = opt(z.record(z.string(), z.unknown()));
const WorkItemSchema = z.looseObject({ id: num, rev: num, fields, _links: links, url: str });
/** workitem.created/restored/commented/deleted carry the item; workitem.updated carries the update and the item at that revision. */
export const WorkItemEventSchema = WorkItemSchema.extend({ workItemId: num, revision: opt(WorkItemSchema) });
export type WorkItemEvent = z.infer<typeof WorkItemEventSchema>;

/** A value that names something: a string with a letter or digit in it. */
export function present(v: string | null | undefined): v is string {
  return typeof v === 'string' && /[A-Za-z0-9]/.test(v);
}

/** The first candidate that names something. */
export function firstPresent(...vs: Array<string | null | undefined>): string | undefined {
  return vs.find(present) ?? undefined;
}

/** A positive id (ADO sends 0 and "0000…" GUIDs where it has none). */
export function positive(v: number | null | undefined): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

const NO_GUID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;
export function realGuid(v: string | null | undefined): string | undefined {
  return typeof v === 'string' && v.trim() && !NO_GUID.test(v) ? v : undefined;
}

/** An event time in ms; ADO's "no date" placeholders (0001-01-01T00:00:00) count as missing. */
export function timeOf(v: string | null | undefined): number | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

/** The first candidate that is a real time, as given (the catalog keeps the event's own text). */
export function firstTime(...vs: Array<string | null | undefined>): string | undefined {
  return vs.find((v) => timeOf(v) !== undefined) ?? undefined;
}

/** metadata.title holds at most 200 characters; work item titles and definition names may be longer. */
export function titleOf(v: string): string {
  return v.length > 200 ? `${v.slice(0, 199)}…` : v;
}

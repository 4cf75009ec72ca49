// Work items from Azure DevOps. workitem.updated carries the update (resource.workItemId is 0 in
// Microsoft's own sample) and the item at that revision (resource.revision, whose id is the work
// item's); the other events carry the item itself. A WorkItem keeps the revision it was written from
// (annotation dev.azure.com/rev) and takes only a newer one.
import { refKey } from '../refs.ts';
import type { Entity, SourceInfo } from '../kinds.ts';
import { writeIfNewer } from './ordered-write.ts';
import { WorkItemEventSchema, firstPresent, positive, titleOf } from './azure-devops-payload.ts';
import { projectScope, skip, type AdoContext } from './azure-devops-context.ts';

const REV = 'dev.azure.com/rev';
/** Fields the work item owns: one its latest revision lacks (an unassigned item) is removed. */
const OWNED = ['title', 'sprint', 'assignee', 'priority', 'url'];
/** More fields than any process template has: the rest is not read. */
const MAX_FIELDS = 2000;

/** ADO identities arrive as "Name <mail>" strings or identity objects, depending on the API version. */
function identity(v: unknown): string | undefined {
  if (!v) return undefined;
  if (typeof v === 'string') return v.replace(/\s*<[^>]+>\s*$/, '').trim() || v;
  const o = v as { displayName?: unknown; uniqueName?: unknown };
  const name = typeof o.displayName === 'string' ? o.displayName : typeof o.uniqueName === 'string' ? o.uniqueName : undefined;
  return name || undefined;
}

function fieldMap(fields: Record<string, unknown> | null | undefined): Map<string, unknown> {
  return new Map(Object.entries(fields ?? {}).slice(0, MAX_FIELDS));
}

/** The item's fields at the update's revision, with the update's own new values laid over them. */
function updatedFields(revision: Record<string, unknown> | null | undefined, changes: Record<string, unknown> | null | undefined): Map<string, unknown> {
  const f = fieldMap(revision);
  for (const [name, change] of fieldMap(changes)) {
    if (!change || typeof change !== 'object') continue;
    if (Object.hasOwn(change, 'newValue')) f.set(name, (change as { newValue: unknown }).newValue);
    else if (Object.hasOwn(change, 'oldValue')) f.delete(name); // cleared in this revision
  }
  return f;
}

export async function onWorkItemEvent(ctx: AdoContext, resource: unknown): Promise<void> {
  const r = WorkItemEventSchema.parse(resource ?? {});
  const updated = ctx.eventType === 'workitem.updated';
  let id: number | undefined;
  if (updated) {
    const fromUpdate = positive(r.workItemId);
    const fromRevision = positive(r.revision?.id);
    if (fromUpdate && fromRevision && fromUpdate !== fromRevision) {
      return skip(ctx, `resource.workItemId (${fromUpdate}) and resource.revision.id (${fromRevision}) name different work items; nothing written`);
    }
    id = fromRevision ?? fromUpdate;
  } else {
    id = positive(r.id);
  }
  if (!id) return skip(ctx, `no work item id (${updated ? 'resource.revision.id or resource.workItemId' : 'resource.id'}); nothing written`);

  const f = updated ? updatedFields(r.revision?.fields, r.fields) : fieldMap(r.fields);
  const text = (name: string) => { const v = f.get(name); return typeof v === 'string' ? v : undefined; };
  const scope = projectScope(ctx, [text('System.TeamProject')]);
  if (!scope) return skip(ctx, `work item ${id}: no project (System.TeamProject), and project ${ctx.projectId ?? '(no resourceContainers.project.id)'} is not known from an earlier event; nothing written`);
  const name = `wi-${id}`;
  const key = refKey({ kind: 'workitem', namespace: scope.namespace, name });

  const rev = updated ? positive(r.revision?.rev) ?? positive(r.rev) : positive(r.rev);
  if (ctx.eventType === 'workitem.deleted') return onDeleted(ctx, key, rev, scope.source);

  const type = firstPresent(text('System.WorkItemType'));
  const state = firstPresent(text('System.State'));
  if (!type || !state) return skip(ctx, `work item ${id}: no ${!type ? 'System.WorkItemType' : 'System.State'} in its fields; nothing written`);
  const title = text('System.Title');
  const iteration = text('System.IterationPath');
  const assignee = identity(f.get('System.AssignedTo'));
  const priority = f.get('Microsoft.VSTS.Common.Priority');
  // The browser link the payload carries; the REST `url` is no page for people.
  const url = (updated ? r.revision?._links?.html?.href ?? r._links?.html?.href : r._links?.html?.href) ?? undefined;
  const doc = {
    apiVersion: 'nexus/v1', kind: 'WorkItem',
    metadata: {
      name, namespace: scope.namespace, ...(title ? { title: titleOf(title) } : {}),
      annotations: { ...scope.annotations, 'dev.azure.com/work-item-id': String(id), ...(rev ? { [REV]: String(rev) } : {}) },
    },
    spec: {
      type, state, project: scope.name,
      ...(title ? { title } : {}),
      ...(iteration ? { sprint: iteration.split('\\').pop() } : {}),
      ...(assignee ? { assignee } : {}),
      ...(typeof priority === 'number' ? { priority } : {}),
      ...(url ? { url } : {}),
    },
  };
  // A restore brings back the revision the item was deleted at, so the same revision applies again.
  const restore = ctx.eventType === 'workitem.restored';
  const res = await writeIfNewer(ctx.catalog, key, scope.source, (cur: Entity | undefined) => {
    const stored = Number(cur?.metadata.annotations?.[REV]);
    if (!cur || !Number.isSafeInteger(stored)) return { write: doc };
    if (!rev) return { skip: `work item ${id} carries no revision (resource.rev), so it cannot be ordered after the stored revision ${stored} of ${key}` };
    return rev > stored || (restore && rev === stored) ? { write: doc } : { skip: `revision ${rev} of work item ${id} is not newer than the stored revision ${stored} of ${key}` };
  }, { ownedFields: OWNED });
  if (res.written) ctx.out.upserted.push(key); else if (res.reason) skip(ctx, res.reason);
}

/**
 * The item was deleted (at revision `rev`): it is marked gone, and keeps the highest revision seen,
 * so an update of that revision or before it that arrives late does not bring it back; a restore
 * (which carries the revision it was deleted at) does.
 */
async function onDeleted(ctx: AdoContext, key: string, rev: number | undefined, source: SourceInfo): Promise<void> {
  const res = await writeIfNewer(ctx.catalog, key, source, (cur) => {
    if (!cur) return { skip: `${key} is not in the catalog` };
    const stored = Number(cur.metadata.annotations?.[REV]);
    if (!rev || (Number.isSafeInteger(stored) && stored >= rev)) return { unchanged: true };
    return { write: { apiVersion: cur.apiVersion, kind: cur.kind, metadata: { name: cur.metadata.name, namespace: cur.metadata.namespace, annotations: { ...cur.metadata.annotations, [REV]: String(rev) } }, spec: cur.spec } };
  });
  if (!res.written && res.reason) return skip(ctx, res.reason);
  const gone = await ctx.catalog.markGone(key, source);
  if (gone?.status?.orphaned) ctx.out.orphaned.push(key);
}

// Azure DevOps service hook events into the catalog: build.complete and the classic release events
// (deployment started, approval pending, deployment completed) keep Pipelines and the Environments
// releases deploy to; workitem.* events keep WorkItems. Every other event is recorded as skipped,
// with the reason, on the delivery. Payloads: { eventType, resource, resourceContainers, createdDate }.
import type { IngestOutcome } from './github.ts';
import type { CatalogService } from '../service.ts';
import { NotificationSchema, realGuid } from './azure-devops-payload.ts';
import { skip, type AdoContext } from './azure-devops-context.ts';
import { RELEASE_EVENTS, onBuildComplete, onReleaseEvent } from './azure-devops-pipelines.ts';
import { onWorkItemEvent } from './azure-devops-workitems.ts';

export interface AdoDelivery {
  deliveryId: string;
  /** The service hook's eventType (also in the payload). */
  event?: string;
  payload: unknown;
}

const WORK_ITEM_EVENTS: ReadonlySet<string> = new Set(['workitem.created', 'workitem.updated', 'workitem.restored', 'workitem.commented', 'workitem.deleted']);

export async function handleAzureDevOpsEvent(catalog: CatalogService, d: AdoDelivery): Promise<IngestOutcome> {
  const out: IngestOutcome = { upserted: [], orphaned: [], skipped: [] };
  const parsed = NotificationSchema.safeParse(d.payload);
  const p = parsed.success ? parsed.data : undefined;
  const eventType = p?.eventType || d.event || '';
  const ctx: AdoContext = {
    catalog, deliveryId: d.deliveryId, eventType: eventType || '(no eventType)', out,
    ...(p?.createdDate ? { createdDate: p.createdDate } : {}),
    ...(realGuid(p?.resourceContainers?.project?.id) ? { projectId: p!.resourceContainers!.project!.id! } : {}),
  };
  if (!p) {
    skip(ctx, 'the payload is not a service hook notification (a JSON object with eventType and resource)');
    return out;
  }
  const stage = RELEASE_EVENTS.get(eventType);
  if (eventType === 'build.complete') await onBuildComplete(ctx, p.resource);
  else if (stage) await onReleaseEvent(ctx, stage, p.resource);
  else if (WORK_ITEM_EVENTS.has(eventType)) await onWorkItemEvent(ctx, p.resource);
  else skip(ctx, 'not a catalog event');
  return out;
}

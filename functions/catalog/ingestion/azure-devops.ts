// Azure DevOps service hook events into the catalog: build.complete and release deployment completion
// update Pipeline entities (and the Environments releases deploy to); workitem.* events keep WorkItems.
// Payloads follow the service hook format: { eventType, resource, resourceContainers, createdDate }.
import { refKey, toEntityName, toNamespace } from '../refs.ts';
import type { SourceInfo } from '../kinds.ts';
import type { CatalogService } from '../service.ts';
import type { IngestOutcome } from './github.ts';

export interface AdoDelivery {
  deliveryId: string;
  /** The service hook's eventType (also in the payload). */
  event?: string;
  payload: unknown;
}

type Obj = Record<string, any>;

/** ADO identities arrive as "Name <mail>" strings or identity objects, depending on the API version. */
function identity(v: unknown): string | undefined {
  if (!v) return undefined;
  if (typeof v === 'string') return v.replace(/\s*<[^>]+>\s*$/, '').trim() || v;
  const o = v as Obj;
  return o.displayName ?? o.uniqueName ?? undefined;
}

function projectOf(p: Obj): string {
  const r = p.resource ?? {};
  return String(r.project?.name ?? r.definition?.project?.name ?? r.fields?.['System.TeamProject']
    ?? r.revision?.fields?.['System.TeamProject'] ?? p.resourceContainers?.project?.id ?? 'azure-devops');
}

export async function handleAzureDevOpsEvent(catalog: CatalogService, d: AdoDelivery): Promise<IngestOutcome> {
  const p = d.payload as Obj;
  const eventType = String(p?.eventType ?? d.event ?? '');
  const out: IngestOutcome = { upserted: [], orphaned: [], skipped: [] };
  const project = projectOf(p);
  const source: SourceInfo = { name: 'azure-devops', scope: `project:${project.toLowerCase()}`, ref: d.deliveryId };
  const namespace = toNamespace(project);
  const r = (p?.resource ?? {}) as Obj;

  if (eventType === 'build.complete') {
    const def = r.definition ?? {};
    const name = toEntityName(String(def.name ?? `build-${def.id}`));
    await catalog.upsert({
      apiVersion: 'nexus/v1', kind: 'Pipeline',
      metadata: { name, namespace, title: def.name, annotations: { 'dev.azure.com/project': project, 'dev.azure.com/build-definition-id': String(def.id ?? '') } },
      spec: {
        provider: 'azure-pipelines', project, definitionId: String(def.id ?? ''), ...(def.url ? { url: def.url } : {}),
        lastRun: {
          id: String(r.id), status: String(r.status ?? 'completed'), ...(r.result ? { result: String(r.result) } : {}),
          ...(r.sourceBranch ? { branch: String(r.sourceBranch).replace(/^refs\/heads\//, '') } : {}),
          ...(r.sourceVersion ? { sha: String(r.sourceVersion) } : {}),
          ...(r.finishTime ? { at: r.finishTime } : {}), ...(r.url ? { url: r._links?.web?.href ?? r.url } : {}),
          ...(r.buildNumber ? { number: String(r.buildNumber) } : {}),
        },
      },
    }, source, { mode: 'merge' });
    out.upserted.push(refKey({ kind: 'pipeline', namespace, name }));
    return out;
  }

  if (/deployment-completed|release\.deployment/.test(eventType) || eventType === 'ms.vss-release.deployment-completed-event') {
    const env = r.environment ?? {};
    const def = env.releaseDefinition ?? r.release?.releaseDefinition ?? {};
    const name = toEntityName(String(def.name ?? `release-${def.id}`));
    const envName = toEntityName(String(env.name ?? 'default'));
    const envKey = refKey({ kind: 'environment', namespace, name: envName });
    await catalog.upsert({
      apiVersion: 'nexus/v1', kind: 'Environment',
      metadata: { name: envName, namespace, title: env.name },
      spec: { stage: String(env.name ?? 'default').toLowerCase() },
    }, source, { mode: 'merge' });
    const pipeKey = refKey({ kind: 'pipeline', namespace, name });
    await catalog.upsert({
      apiVersion: 'nexus/v1', kind: 'Pipeline',
      metadata: { name, namespace, title: def.name, annotations: { 'dev.azure.com/project': project } },
      spec: {
        provider: 'azure-releases', project, definitionId: String(def.id ?? ''),
        lastRun: {
          id: String(r.deployment?.id ?? env.id ?? d.deliveryId), status: 'completed', result: String(env.status ?? r.deployment?.deploymentStatus ?? 'unknown'),
          ...(r.release?.name || env.release?.name ? { number: String(r.release?.name ?? env.release?.name) } : {}),
          ...(p.createdDate ? { at: p.createdDate } : {}),
        },
      },
    }, source, { mode: 'merge' });
    await catalog.update(pipeKey, (cur) => ({
      ...cur, spec: { ...cur.spec, deploysTo: [...new Set([...((cur.spec.deploysTo as string[] | undefined) ?? []), envKey])].sort() },
    }), source);
    out.upserted.push(envKey, pipeKey);
    return out;
  }

  if (eventType.startsWith('workitem.')) {
    // workitem.updated carries the changed fields plus the full revision; the others carry the item itself.
    const item = (eventType === 'workitem.updated' ? r.revision : r) as Obj | undefined;
    const id = eventType === 'workitem.updated' ? r.workItemId ?? item?.id : r.id;
    const f = (item?.fields ?? {}) as Obj;
    const name = `wi-${id}`;
    const key = refKey({ kind: 'workitem', namespace, name });
    if (eventType === 'workitem.deleted') {
      if (await catalog.get(key)) {
        const gone = await catalog.markGone(key, source);
        if (gone?.status?.orphaned) out.orphaned.push(key);
      }
      return out;
    }
    if (!f['System.WorkItemType']) {
      out.skipped.push(`${eventType}: work item ${id} without fields`);
      return out;
    }
    const iteration = f['System.IterationPath'] as string | undefined;
    await catalog.upsert({
      apiVersion: 'nexus/v1', kind: 'WorkItem',
      metadata: { name, namespace, title: f['System.Title'], annotations: { 'dev.azure.com/project': project, 'dev.azure.com/work-item-id': String(id) } },
      spec: {
        type: String(f['System.WorkItemType']), state: String(f['System.State'] ?? 'New'), title: f['System.Title'],
        ...(iteration ? { sprint: iteration.split('\\').pop() } : {}),
        ...(identity(f['System.AssignedTo']) ? { assignee: identity(f['System.AssignedTo']) } : {}),
        project,
        ...(typeof f['Microsoft.VSTS.Common.Priority'] === 'number' ? { priority: f['Microsoft.VSTS.Common.Priority'] } : {}),
        ...((item?._links?.html?.href ?? item?.url) ? { url: item?._links?.html?.href ?? item?.url } : {}),
      },
    }, source, { mode: 'merge' });
    out.upserted.push(key);
    return out;
  }

  out.skipped.push(`${eventType || '(no eventType)'}: not a catalog event`);
  return out;
}

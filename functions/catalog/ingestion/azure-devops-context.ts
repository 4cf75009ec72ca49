// What every Azure DevOps event handler shares: the delivery, its outcome, and the project the event
// belongs to (the namespace of what it writes). A project is named by the event itself, or, for the
// older payloads that carry only the project's id, by an earlier event of that project; never guessed.
import { toNamespace } from '../refs.ts';
import type { SourceInfo } from '../kinds.ts';
import type { CatalogService } from '../service.ts';
import type { IngestOutcome } from './github.ts';
import { firstPresent, present } from './azure-devops-payload.ts';

export const PROJECT = 'dev.azure.com/project';
export const PROJECT_ID = 'dev.azure.com/project-id';

export interface AdoContext {
  catalog: CatalogService;
  deliveryId: string;
  eventType: string;
  /** When Azure DevOps raised the notification. */
  createdDate?: string;
  /** resourceContainers.project.id, when sent. */
  projectId?: string;
  out: IngestOutcome;
}

export interface ProjectScope {
  name: string;
  namespace: string;
  source: SourceInfo;
  /** The project annotations every entity written for it carries. */
  annotations: Record<string, string>;
}

/** Records why the delivery, or a part of it, was not applied. */
export function skip(ctx: AdoContext, reason: string): void {
  ctx.out.skipped.push(`${ctx.eventType}: ${reason}`);
}

/** Records something a person should look at although the delivery was applied. */
export function finding(ctx: AdoContext, text: string): void {
  (ctx.out.findings ??= []).push(`${ctx.eventType}: ${text}`);
}

/**
 * The project from the names the payload carries (first that names something), else from the
 * project id through an entity an earlier event of that project wrote. Undefined: the caller skips.
 */
export function projectScope(ctx: AdoContext, names: Array<string | null | undefined>, id?: string): ProjectScope | undefined {
  const projectId = id ?? ctx.projectId;
  const name = firstPresent(...names) ?? (projectId ? knownProjectName(ctx.catalog, projectId) : undefined);
  if (!name) return undefined;
  return {
    name,
    namespace: toNamespace(name),
    source: { name: 'azure-devops', scope: `project:${name.toLowerCase()}`, ref: ctx.deliveryId },
    annotations: { [PROJECT]: name, ...(projectId ? { [PROJECT_ID]: projectId } : {}) },
  };
}

function knownProjectName(catalog: CatalogService, projectId: string): string | undefined {
  const id = projectId.toLowerCase();
  for (const key of catalog.index.keysWhere((i) => i.entity.metadata.annotations?.[PROJECT_ID]?.toLowerCase() === id)) {
    const name = catalog.index.entity(key)?.metadata.annotations?.[PROJECT];
    if (present(name)) return name;
  }
  return undefined;
}

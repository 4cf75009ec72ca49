// Pulumi state into the catalog: the Stack itself, and every resource it manages as an AzureResource
// with a `managedBy` relation to the Stack. Landing zones and services share one graph this way.
// Resources that left the state are orphaned (the stack stopped managing them), not deleted.
import { azureResourceRef, parseArmId } from '../azure-ids.ts';
import { parseRef, refKey, toEntityName } from '../refs.ts';
import type { SourceInfo } from '../kinds.ts';
import type { CatalogService } from '../service.ts';

interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  id?: string;
  inputs?: Record<string, any>;
  outputs?: Record<string, any>;
  delete?: boolean;
}

/** Accepts `pulumi stack export` output ({version, deployment}) or its `deployment` part. */
function resourcesOf(state: unknown): StateResource[] {
  const s = state as { deployment?: { resources?: StateResource[] }; resources?: StateResource[] } | undefined;
  const list = s?.deployment?.resources ?? s?.resources;
  if (!Array.isArray(list)) throw new Error('pulumi state: no resources (expected the output of `pulumi stack export` or its deployment)');
  return list;
}

function projectOf(urn: string): string | undefined {
  // urn:pulumi:<stack>::<project>::<type>::<name>
  return urn.split('::')[1];
}

export function stackRef(stack: string): string {
  return refKey({ kind: 'stack', namespace: 'default', name: toEntityName(stack) });
}

export interface PulumiImportResult {
  stack: string;
  upserted: string[];
  orphaned: string[];
}

export async function importPulumiState(catalog: CatalogService, opts: { stack: string; state: unknown; runId?: string; now?: () => Date }): Promise<PulumiImportResult> {
  const all = resourcesOf(opts.state);
  const managed = all.filter((r) => r.custom && !r.delete && r.id && !r.type.startsWith('pulumi:providers:') && r.type !== 'pulumi:pulumi:Stack');
  const source: SourceInfo = { name: 'pulumi', scope: `stack:${opts.stack.toLowerCase()}`, ref: opts.runId };
  const stackKey = stackRef(opts.stack);
  const stackName = parseRef(stackKey).name;
  await catalog.upsert({
    apiVersion: 'nexus/v1', kind: 'Stack',
    metadata: { name: stackName, namespace: 'default', title: opts.stack },
    spec: {
      ...(all[0] ? { project: projectOf(all[0].urn) } : {}),
      resourceCount: managed.length,
      lastUpdate: (opts.now?.() ?? new Date()).toISOString(),
    },
  }, source, { mode: 'merge' });

  const upserted: string[] = [];
  for (const r of managed) {
    const out = r.outputs ?? {};
    const inp = r.inputs ?? {};
    const arm = r.id!.startsWith('/');
    const key = arm
      ? azureResourceRef(r.id!)
      : refKey({ kind: 'azureresource', namespace: 'pulumi', name: toEntityName(`${stackName}-${r.urn.split('::').pop()}`, { hashSuffix: true, hashOf: r.urn }) });
    const ref = parseRef(key);
    const parts = arm ? parseArmId(r.id!) : undefined;
    const tags = (out.tags ?? inp.tags) as Record<string, string> | undefined;
    await catalog.upsert({
      apiVersion: 'nexus/v1', kind: 'AzureResource',
      metadata: {
        name: ref.name, namespace: ref.namespace, title: String(out.name ?? parts?.name ?? r.urn.split('::').pop()),
        annotations: { 'pulumi.com/urn': r.urn, ...(arm ? { 'azure.com/resource-id': r.id! } : {}) },
      },
      spec: {
        type: String(out.type ?? parts?.type ?? r.type),
        ...(arm ? { resourceId: r.id } : {}),
        ...((out.location ?? inp.location) ? { region: String(out.location ?? inp.location) } : {}),
        ...(parts?.subscription ? { subscription: parts.subscription } : {}),
        ...(parts?.resourceGroup ? { resourceGroup: parts.resourceGroup } : {}),
        ...(tags && typeof tags === 'object' ? { tags } : {}),
        managedBy: stackKey,
      },
    }, source, { mode: 'merge' });
    upserted.push(key);
  }
  const orphaned = await catalog.markMissing(source, [stackKey, ...upserted]);
  return { stack: opts.stack, upserted, orphaned };
}

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalog } from '../fresh.ts';
import { fixture } from './fixture.ts';
import { importPulumiState } from '../../../../functions/catalog/ingestion/pulumi-state.ts';
import { azureResourceRef } from '../../../../functions/catalog/azure-ids.ts';

const sub = '0b1f6471-1bf0-4dda-aec3-111122223333';
const rg = `/subscriptions/${sub}/resourceGroups/rg-corp-connectivity`;
const vnet = `${rg}/providers/Microsoft.Network/virtualNetworks/vnet-hub`;
const pa = '/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/policyAssignments/Deny-Public-IP';

test('every managed resource of a stack becomes an AzureResource managed by the Stack, both ways', async () => {
  const catalog = await freshCatalog();
  const state = fixture('pulumi/landing-zone-corp.json');
  const res = await importPulumiState(catalog, { stack: 'landing-zone-corp', state, runId: 'run-1' });
  // The provider and the stack's own resource are not Azure resources.
  assert.equal(res.upserted.sort(), [azureResourceRef(rg), azureResourceRef(vnet), azureResourceRef(pa)].sort());
  const stack = await catalog.get('stack:landing-zone-corp');
  assert.equal([stack?.spec.project, stack?.spec.resourceCount], ['nexus', 3]);
  for (const id of [rg, vnet, pa]) {
    const e = await catalog.get(azureResourceRef(id));
    assert.ok(e?.relations.some((r) => r.type === 'managedBy' && r.targetRef === 'stack:default/landing-zone-corp' && r.resolved), id);
    assert.ok(stack?.relations.some((r) => r.type === 'manages' && r.targetRef === azureResourceRef(id) && r.resolved), id);
  }
  const group = await catalog.get(azureResourceRef(rg));
  assert.equal([group?.spec.type, group?.spec.region, group?.spec.subscription, group?.metadata.title], ['Microsoft.Resources/resourceGroups', 'westeurope', sub, 'rg-corp-connectivity']);
  assert.is(group?.status?.owner, 'team:default/network', 'owner from the team tag');
  const policy = await catalog.get(azureResourceRef(pa));
  assert.is(policy?.metadata.namespace, 'tenant', 'management-group scope has no subscription');
  assert.is(policy?.spec.type, 'Microsoft.Authorization/policyAssignments');
  assert.equal((await catalog.relations('stack:landing-zone-corp')).filter((r) => r.type === 'manages').length, 3);
});

test('a resource that leaves the state is orphaned; a resource also seen by Resource Graph keeps both sources', async () => {
  const catalog = await freshCatalog();
  const state = fixture('pulumi/landing-zone-corp.json');
  await importPulumiState(catalog, { stack: 'landing-zone-corp', state });
  // Resource Graph also reports the resource group.
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'AzureResource', metadata: { name: azureResourceRef(rg).split('/')[1]!, namespace: sub }, spec: { type: 'microsoft.resources/resourcegroups' } }, { name: 'resource-graph', scope: `/subscriptions/${sub}` }, { mode: 'merge' });
  const smaller = structuredClone(state);
  smaller.deployment.resources = smaller.deployment.resources.filter((r: { id?: string }) => r.id !== vnet && r.id !== rg);
  const res = await importPulumiState(catalog, { stack: 'landing-zone-corp', state: smaller });
  assert.equal(res.orphaned, [azureResourceRef(vnet)]);
  assert.is((await catalog.get(azureResourceRef(vnet)))?.status?.orphaned, true);
  assert.not.ok((await catalog.get(azureResourceRef(rg)))?.status?.orphaned);
  assert.is((await catalog.get('stack:landing-zone-corp'))?.spec.resourceCount, 1);
});

test('state without resources is refused with a reason', async () => {
  const catalog = await freshCatalog();
  try {
    await importPulumiState(catalog, { stack: 's', state: { version: 3 } });
    assert.unreachable('accepted');
  } catch (err) {
    assert.match((err as Error).message, /pulumi stack export/);
  }
});

test.run();

// The azure-native program of a stack, run under Pulumi's own mocks: registered types, names, scopes,
// parents and key inputs, in dependency order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as pulumi from '@pulumi/pulumi';
import { compile, defaultLibraries } from '../../../stacks/compile/index.ts';
import { architecture, tmpLibrary } from './tmp-library.ts';
import { registerStack } from '../../../stacks/compile/program.ts';

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  provider?: string;
}
let registered: Registered[] = [];

test.before.each(() => {
  registered = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        const state: Record<string, any> = { ...args.inputs };
        if (args.type === 'azure-native:authorization:PolicyAssignment' && args.inputs.identity) {
          state.identity = { type: args.inputs.identity.type, principalId: `principal-of-${args.inputs.policyAssignmentName}` };
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    'nexus',
    'test',
    false,
  );
});

const FIX = new URL('../../fixtures/compile/', import.meta.url).pathname;
const state = compile({ libraries: [`${FIX}base`, `${FIX}nexus`], architecture: 'small-nexus' }).state;
const SUB = '44444444-4444-4444-4444-444444444444';

async function run(stack: string) {
  const created = await registerStack(state, stack);
  await Promise.all([...created.values()].map((r) => new Promise((res) => r.urn.apply(res))));
  return created;
}

const MG = '/providers/Microsoft.Management/managementGroups/';
const byId = new Map(state.resources.map((r) => [r.id, r]));

test('root stack: group, definitions, role definition, assignments, role assignments in DesiredState order', async () => {
  const created = await run('top');
  const kinds = [...created.keys()].map((id) => byId.get(id)!.kind);
  assert.equal(kinds, ['managementGroup', 'policyDefinition', 'policyDefinition', 'policyDefinition', 'policyDefinition', 'policySetDefinition', 'roleDefinition', 'policyAssignment', 'policyAssignment', 'roleAssignment', 'roleAssignment', 'roleAssignment', 'roleAssignment']);
  const type = (t: string) => registered.filter((r) => r.type === `azure-native:${t}`);
  assert.is(type('management:ManagementGroup').length, 1);
  assert.is(type('authorization:PolicyDefinitionAtManagementGroup').length, 4);
  assert.is(type('authorization:PolicySetDefinitionAtManagementGroup').length, 1);
  assert.is(type('authorization:RoleDefinition').length, 1);
  assert.is(type('authorization:PolicyAssignment').length, 2);
  assert.is(type('authorization:RoleAssignment').length, 4);

  const mg = type('management:ManagementGroup')[0]!;
  assert.is(mg.name, `${MG}top`);
  assert.is(mg.inputs.groupId, 'top');
  assert.is(mg.inputs.displayName, 'Top');
  assert.equal(mg.inputs.details, { parent: { id: `${MG}tenant-root` } });

  const def = registered.find((r) => r.name === `${MG}top/providers/Microsoft.Authorization/policyDefinitions/Deploy-Diag`)!;
  assert.is(def.inputs.managementGroupId, 'top');
  assert.is(def.inputs.policyDefinitionName, 'Deploy-Diag');
  assert.is(def.inputs.policyType, 'Custom');
  assert.is(def.inputs.mode, 'Indexed');
  assert.ok(def.inputs.policyRule.then.details.roleDefinitionIds.length === 2);

  const set = type('authorization:PolicySetDefinitionAtManagementGroup')[0]!;
  assert.is(set.inputs.policySetDefinitionName, 'Baseline');
  assert.is(set.inputs.policyDefinitions[0].policyDefinitionId, `${MG}top/providers/Microsoft.Authorization/policyDefinitions/Deploy-Diag`);

  const role = type('authorization:RoleDefinition')[0]!;
  assert.is(role.inputs.roleName, 'Reader-Plus');
  assert.is(role.inputs.scope, `${MG}top`);
  assert.equal(role.inputs.assignableScopes, [`${MG}top`]);
  assert.match(role.inputs.roleDefinitionId, /^[0-9a-f-]{36}$/);
});

test('assignments carry identity and location; their role assignments get the identity principal', async () => {
  await run('top');
  const pa = registered.find((r) => r.inputs.policyAssignmentName === 'Deploy-Baseline')!;
  assert.is(pa.type, 'azure-native:authorization:PolicyAssignment');
  assert.is(pa.inputs.scope, `${MG}top`);
  assert.equal(pa.inputs.identity, { type: 'SystemAssigned' });
  assert.is(pa.inputs.location, 'northeurope');
  assert.is(pa.inputs.policyDefinitionId, `${MG}top/providers/Microsoft.Authorization/policySetDefinitions/Baseline`);
  const ras = registered.filter((r) => r.type === 'azure-native:authorization:RoleAssignment');
  assert.ok(ras.every((ra) => ra.inputs.principalId === 'principal-of-Deploy-Baseline'));
  assert.equal(ras.map((r) => r.inputs.scope).sort(), [
    `${MG}top`,
    `${MG}top`,
    '/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central',
    '/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central',
  ]);
  assert.ok(ras.every((ra) => ra.inputs.principalType === 'ServicePrincipal'));
  const audit = registered.find((r) => r.inputs.policyAssignmentName === 'Audit-Thing')!;
  assert.is(audit.inputs.identity, undefined);
  assert.is(audit.inputs.location, undefined);
});

test('child stack: parent group by id, subscription placed through its own provider, rbac', async () => {
  await run('apps');
  const mg = registered.find((r) => r.type === 'azure-native:management:ManagementGroup')!;
  assert.equal(mg.inputs.details, { parent: { id: `${MG}workloads` } });
  const provider = registered.find((r) => r.type === 'pulumi:providers:azure-native')!;
  assert.is(provider.inputs.subscriptionId, SUB);
  const placement = registered.find((r) => r.type === 'azure-native:management:ManagementGroupSubscription')!;
  assert.is(placement.name, `${MG}apps/subscriptions/${SUB}`);
  assert.is(placement.inputs.groupId, 'apps');
  assert.ok(placement.provider?.includes(`subscription-${SUB}`));
  const names = registered.filter((r) => r.type === 'azure-native:authorization:PolicyAssignment').map((r) => r.inputs.policyAssignmentName).sort();
  assert.equal(names, ['Audit-Owner-Tag', 'Deploy-App-Diag']);
  const rbac = registered.filter((r) => r.type === 'azure-native:authorization:RoleAssignment' && r.inputs.principalType !== 'ServicePrincipal');
  assert.equal(rbac.map((r) => `${r.inputs.principalType}:${r.inputs.principalId}`).sort(), [
    'Group:66666666-6666-6666-6666-666666666666',
    'Group:66666666-6666-6666-6666-666666666666',
    'User:33333333-3333-3333-3333-333333333333',
  ]);
  const custom = rbac.filter((r) => r.inputs.roleDefinitionId.startsWith(`${MG}top/providers/Microsoft.Authorization/roleDefinitions/`));
  assert.is(custom.length, 2);
});

test('archetype resources use the azure-native class their type token names', async () => {
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  resources:\n    - { name: logs, type: "azure-native:resources:ResourceGroup", inputs: { resourceGroupName: rg-logs, location: westeurope } }\n    - { name: bad, type: "azure-native:resources:NoSuchThing" }\n',
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const s = compile({ libraries: [`${FIX}base`, lib], architecture: 'test' }).state;
  const good = { ...s, resources: s.resources.filter((r) => r.name !== 'bad'), stacks: s.stacks.map((x) => ({ ...x, resourceIds: x.resourceIds.filter((id) => !id.endsWith('/bad')) })) };
  const created = await registerStack(good, 'apps');
  await Promise.all([...created.values()].map((r) => new Promise((res) => r.urn.apply(res))));
  const rg = registered.find((r) => r.type === 'azure-native:resources:ResourceGroup')!;
  assert.is(rg.name, 'logs');
  assert.equal(rg.inputs, { resourceGroupName: 'rg-logs', location: 'westeurope' });
  try {
    await registerStack(s, 'apps');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /azure-native has no resources\.NoSuchThing/);
  }
});

test('the default tenant (archetypes/ over the ALZ library): the corp stack registers what its DesiredState holds', async () => {
  const tenant = compile({ libraries: defaultLibraries(), architecture: 'nexus-default', rootMg: 'tenant-root', location: 'westeurope' }).state;
  assert.equal(tenant.findings.filter((f) => f.severity === 'error'), []);
  // Only what this stack registered (a previous test's late registrations may still arrive).
  let mine: Registered[] = [];
  const counts = () => {
    const by: Record<string, number> = {};
    for (const r of mine) by[r.type] = (by[r.type] ?? 0) + 1;
    return by;
  };
  const settle = async (stack: string) => {
    const created = await registerStack(tenant, stack);
    await Promise.all([...created.values()].map((r) => new Promise((res) => r.urn.apply(res))));
    mine = registered.filter((r) => created.has(r.name));
    return created;
  };

  const corp = await settle('corp');
  assert.is(corp.size, tenant.stacks.find((x) => x.name === 'corp')!.resourceIds.length);
  assert.equal(counts(), { 'azure-native:management:ManagementGroup': 1, 'azure-native:authorization:PolicyAssignment': 5, 'azure-native:authorization:RoleAssignment': 4 });
  const tenantById = new Map(tenant.resources.map((r) => [r.id, r]));
  assert.equal([...corp.keys()].map((id) => tenantById.get(id)!.kind), ['managementGroup', ...Array(5).fill('policyAssignment'), ...Array(4).fill('roleAssignment')], 'created in dependency order');
  const mg = mine.find((r) => r.type === 'azure-native:management:ManagementGroup')!;
  assert.equal([mg.name, mg.inputs.groupId, mg.inputs.details], [`${MG}corp`, 'corp', { parent: { id: `${MG}landingzones` } }]);
  const pas = mine.filter((r) => r.type === 'azure-native:authorization:PolicyAssignment');
  assert.equal(pas.map((r) => r.inputs.policyAssignmentName).sort(), ['Audit-PeDnsZones', 'Deny-Public-Endpoints', 'Deny-Public-IP-On-NIC', 'Deny-Subnet-No-Udr', 'Deploy-Private-DNS-Zones'], 'Deny-HybridNetworking removed by nexus-corp');
  assert.ok(pas.every((r) => r.inputs.scope === `${MG}corp`));
  const udr = pas.find((r) => r.inputs.policyAssignmentName === 'Deny-Subnet-No-Udr')!;
  assert.is(udr.inputs.parameters.effect.value, 'Audit', 'the nexus-corp override');
  assert.is(udr.inputs.policyDefinitionId, `${MG}alz/providers/Microsoft.Authorization/policyDefinitions/Deny-Subnet-Without-Udr`);
  const team = mine.find((r) => r.type === 'azure-native:authorization:RoleAssignment' && r.inputs.principalType === 'Group')!;
  assert.is(team.inputs.principalId, '5b1f7f62-3c1e-4a39-9d1a-0c4bd1a6e7a1', 'network-team mapped by the architecture');
  assert.match(team.inputs.roleDefinitionId, `${MG}alz/providers/Microsoft.Authorization/roleDefinitions/`);
  const remediation = mine.filter((r) => r.type === 'azure-native:authorization:RoleAssignment' && r.inputs.principalType === 'ServicePrincipal');
  assert.is(remediation.length, 3);
  assert.ok(remediation.every((r) => r.inputs.principalId === 'principal-of-Deploy-Private-DNS-Zones'), 'the DINE assignment identity');

});

test('an unknown stack is refused', async () => {
  try {
    await registerStack(state, 'nope');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /stack "nope" is not in the DesiredState/);
  }
});

test.run();

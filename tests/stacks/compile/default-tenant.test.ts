// The shipped tenant: archetypes/ on top of the ALZ library compiles without errors, and the Nexus
// archetypes inherit and override ALZ ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, compileDefaultTenant, defaultLibraries } from '../../../stacks/compile/index.ts';

const MG = '/providers/Microsoft.Management/managementGroups/';

test('compiles to the ALZ hierarchy with no errors', async () => {
  const s = await compileDefaultTenant({ ...process.env, NEXUS_ROOT_MG: 'my-tenant', NEXUS_LOCATION: 'norwayeast' });
  assert.equal(s.findings.filter((f) => f.severity === 'error'), []);
  assert.equal(s.stacks.map((x) => x.name), ['alz', 'platform', 'landingzones', 'corp', 'online', 'local', 'sandbox', 'security', 'management', 'connectivity', 'identity', 'decommissioned']);
  assert.is(s.rootManagementGroupId, 'my-tenant');
  assert.is(s.location, 'norwayeast');
  assert.equal((s.resources.find((r) => r.id === `${MG}alz`)!.body.properties as any).details.parent.id, `${MG}my-tenant`);
});

test('Nexus archetypes override and extend ALZ ones', () => {
  const c = compile({ libraries: defaultLibraries(), architecture: 'nexus-default' });
  const pa = (mg: string, name: string) => c.state.resources.find((r) => r.id === `${MG}${mg}/providers/Microsoft.Authorization/policyAssignments/${name}`);
  assert.is((pa('landingzones', 'Enable-DDoS-VNET')!.body.properties as any).enforcementMode, 'DoNotEnforce');
  assert.ok(pa('landingzones', 'Audit-Mandatory-Tags'));
  assert.is(pa('corp', 'Deny-HybridNetworking'), undefined, 'removed by nexus-corp');
  assert.is((pa('corp', 'Deny-Subnet-No-Udr')!.body.properties as any).parameters.effect.value, 'Audit');
  assert.ok((pa('sandbox', 'Enforce-ALZ-Sandbox')!.body.properties as any).parameters.listOfResourceTypesNotAllowed.value.includes('microsoft.network/natgateways'));
  assert.is((pa('alz', 'Deploy-MDFC-Config-H224')!.body.properties as any).parameters.emailSecurityContact.value, 'security@contoso.example');
});

test.run();

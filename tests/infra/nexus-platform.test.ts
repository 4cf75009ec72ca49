import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as pulumi from '@pulumi/pulumi';

interface Registered { type: string; name: string; inputs: Record<string, any> }
const registered: Registered[] = [];


let NexusPlatform: typeof import('../../infra/nexus-platform.ts').NexusPlatform;

// Mocks set when this suite starts, not at import: uvu imports every file of a run before any
// suite runs, and another file's mocks or an engine test's inline program would replace them.
test.before(async () => {
  pulumi.runtime.setMocks({
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const outputs: Record<string, unknown> = { ...args.inputs, name: args.inputs.name ?? args.name };
      if (args.type === 'azure-native:managedidentity:UserAssignedIdentity') {
        Object.assign(outputs, { principalId: 'pid-1', clientId: 'cid-1' });
      }
      if (args.type === 'azure-native:keyvault:Vault') outputs.properties = { ...args.inputs.properties, vaultUri: 'https://kv.vault.azure.net/' };
      if (args.type === 'azure-native:web:WebApp') outputs.defaultHostName = 'nexus-func.azurewebsites.net';
      if (args.type === 'azure-native:operationalinsights:Workspace') outputs.customerId = '5e0f6a1b-0000-4000-8000-00000000c0de';
      return { id: `/subscriptions/s/resourceGroups/rg/${args.name}`, state: outputs };
    },
    call: () => ({ tenantId: '00000000-0000-0000-0000-00000000aaaa', subscriptionId: 's', clientId: 'c', objectId: 'o' }),
  }, 'nexus-platform', 'test', false);
  ({ NexusPlatform } = await import('../../infra/nexus-platform.ts'));
});
const settle = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

test('deploys storage, vault, identity and a function app with identity-based settings only', async () => {
  const platform = new NexusPlatform('nexus', { location: 'westeurope', prefix: 'nexus', managedRootMg: 'contoso' });
  assert.is(await settle(platform.functionAppUrl), 'https://nexus-func.azurewebsites.net');
  const types = registered.map((r) => r.type);
  for (const t of ['azure-native:storage:StorageAccount', 'azure-native:keyvault:Vault', 'azure-native:web:WebApp',
    'azure-native:managedidentity:UserAssignedIdentity']) assert.ok(types.includes(t), t);

  const account = registered.find((r) => r.type === 'azure-native:storage:StorageAccount')!;
  assert.is(account.inputs.allowSharedKeyAccess, false);
  assert.is(account.inputs.allowBlobPublicAccess, false);

  const app = registered.find((r) => r.type === 'azure-native:web:WebApp')!;
  const settings = Object.fromEntries(app.inputs.siteConfig.appSettings.map((s: any) => [s.name, s.value]));
  for (const secret of ['NEXUS_GITHUB_WEBHOOK_SECRET', 'NEXUS_ADO_WEBHOOK_SECRET', 'NEXUS_ALERTS_WEBHOOK_SECRET']) {
    assert.match(settings[secret], /^@Microsoft\.KeyVault\(SecretUri=/, secret);
  }
  // The settings are the names the runtime reads.
  assert.is(settings.NEXUS_ROOT_MG, 'contoso');
  assert.is(settings.NEXUS_PULUMI_BACKEND_URL, 'azblob://pulumi-state');
  assert.match(await settle(pulumi.output(settings.NEXUS_SECRETS_PROVIDER)), /^azurekeyvault:\/\//);
  assert.is(settings.NEXUS_API_AUDIENCE, 'api://nexus-nexus');
  assert.ok(await settle(pulumi.output(settings.NEXUS_ENTRA_TENANT_ID)));
  assert.not.ok(Object.keys(settings).some((k) => /KEY|CONNECTION_STRING|PASSWORD/.test(k)), 'no keys in app settings');
  assert.is(app.inputs.httpsOnly, true);

  const mgGrants = registered.filter((r) => r.type === 'azure-native:authorization:RoleAssignment'
    && r.inputs.scope === '/providers/Microsoft.Management/managementGroups/contoso');
  assert.is(mgGrants.length, 3);
});

test('the managed group streams its Administrative and Policy Activity Log to a workspace Nexus may read', async () => {
  const before = registered.length;
  const platform = new NexusPlatform('drift', { location: 'westeurope', prefix: 'drift', managedRootMg: 'contoso' });
  await settle(platform.functionAppUrl);
  const mine = registered.slice(before);
  const workspace = mine.find((r) => r.type === 'azure-native:operationalinsights:Workspace')!;
  assert.ok(workspace, 'a Log Analytics workspace');
  const diag = mine.find((r) => r.type === 'azure-native:monitor:ManagementGroupDiagnosticSetting')!;
  assert.is(diag.inputs.managementGroupId, 'contoso');
  assert.equal(diag.inputs.logs, [{ category: 'Administrative', enabled: true }, { category: 'Policy', enabled: true }]);
  assert.match(diag.inputs.workspaceId, /drift-log$/);
  const reader = mine.find((r) => r.type === 'azure-native:authorization:RoleAssignment' && /drift-log$/.test(r.inputs.scope))!;
  assert.match(reader.inputs.roleDefinitionId, /73c42c96-874c-492b-b04d-ab87d138a893$/);
  assert.is(reader.inputs.principalId, 'pid-1');
  const app = mine.find((r) => r.type === 'azure-native:web:WebApp')!;
  const settings = Object.fromEntries(app.inputs.siteConfig.appSettings.map((s: any) => [s.name, s.value]));
  assert.is(settings.NEXUS_ACTIVITY_LOG_WORKSPACE_ID, '5e0f6a1b-0000-4000-8000-00000000c0de');
  assert.is(settings.NEXUS_DRIFT_SELF_IDENTITIES, 'pid-1,cid-1');
});

test('refuses the tenant root group and bad prefixes', () => {
  assert.throws(() => new NexusPlatform('x', { location: 'l', prefix: 'nexus', managedRootMg: 'AAA', tenantId: 'aaa' }), /tenant root/);
  assert.throws(() => new NexusPlatform('y', { location: 'l', prefix: 'Nexus-Prod', managedRootMg: 'mg' }), /prefix/);
});

test.run();

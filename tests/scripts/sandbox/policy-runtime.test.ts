// The sandbox's remediations and deployments on the wire (Azure's shapes, as the REST examples show
// them) and across a restart with a data file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startSandbox, type SandboxHandle } from '../../../scripts/sandbox/server.ts';
import { armConfig, armRequest } from '../../../functions/platform/arm.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const V = '2021-10-01';
const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;

async function seed(sb: SandboxHandle) {
  const cfg = armConfig(loadConfig(sb.env).arm);
  const put = async (id: string, body: unknown) => {
    const r = await armRequest('PUT', id, { apiVersion: '2021-04-01', body, cfg });
    if (r.status >= 300) throw new Error(`PUT ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const sub = randomUUID();
  await put(MG('finance'), {});
  sb.state.addSubscription({ subscriptionId: sub, managementGroupId: 'finance' });
  const rg = `/subscriptions/${sub}/resourceGroups/app`;
  await put(rg, { location: 'eastus' });
  const sa = `${rg}/providers/Microsoft.Storage/storageAccounts/stor1`;
  await put(sa, { location: 'eastus' });
  const pd = `${MG('finance')}/providers/Microsoft.Authorization/policyDefinitions/diag`;
  await put(pd, { properties: { policyRule: { if: { field: 'type', equals: 'Microsoft.Storage/storageAccounts' }, then: { effect: 'deployIfNotExists' } } } });
  const pa = `${MG('finance')}/providers/Microsoft.Authorization/policyAssignments/diag`;
  await put(pa, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: { policyDefinitionId: pd } });
  return { cfg, sub, rg, sa, pa };
}

test('remediations and deployments have Azure\'s wire shapes and survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-sandbox-policy-'));
  try {
    const dataFile = join(dir, 'sandbox.json');
    const first = await startSandbox({ dataFile, builtinPolicies: false });
    const { cfg, rg, sa, pa } = await seed(first);
    const remediated = await armRequest('POST', '/_sandbox/policy/remediate', {
      apiVersion: 'sandbox', cfg,
      body: { assignmentId: pa, resourceId: `${sa}/providers/Microsoft.Insights/diagnosticSettings/d`, body: { properties: {} }, effect: 'deployIfNotExists', remediationName: 'storageRemediation' },
    });
    assert.is(remediated.status, 200, JSON.stringify(remediated.body));
    const started = await armRequest('POST', '/_sandbox/deployments/start', { apiVersion: 'sandbox', cfg, body: { scope: rg, name: 'release-1' } });
    assert.is(started.status, 200);
    await first.stop();

    const second = await startSandbox({ dataFile, builtinPolicies: false });
    try {
      const cfg2 = armConfig(loadConfig(second.env).arm);
      const rem = await armRequest('GET', `${MG('finance')}/providers/Microsoft.PolicyInsights/remediations/storageRemediation`, { apiVersion: V, cfg: cfg2 });
      assert.is(rem.status, 200);
      assert.is(rem.body.type, 'Microsoft.PolicyInsights/remediations');
      assert.is(rem.body.name, 'storageRemediation');
      assert.equal(Object.keys(rem.body.properties).sort(), [
        'correlationId', 'createdOn', 'deploymentStatus', 'lastUpdatedOn', 'policyAssignmentId', 'provisioningState', 'resourceDiscoveryMode', 'statusMessage',
      ]);
      assert.equal(rem.body.properties.deploymentStatus, { totalDeployments: 1, successfulDeployments: 1, failedDeployments: 0 });
      assert.is(rem.body.systemData.createdByType, 'Application');
      const deps = await armRequest('POST', `${MG('finance')}/providers/Microsoft.PolicyInsights/remediations/storageRemediation/listDeployments`, { apiVersion: V, cfg: cfg2 });
      assert.is(deps.status, 200);
      assert.equal(Object.keys(deps.body.value[0]).sort(), ['createdOn', 'deploymentId', 'lastUpdatedOn', 'remediatedResourceId', 'resourceLocation', 'status']);
      assert.is(deps.body.value[0].resourceLocation, '', 'a diagnostic setting has no location');
      const running = await armRequest('GET', `${rg}/providers/Microsoft.Resources/deployments`, { apiVersion: '2021-04-01', cfg: cfg2, query: { $filter: "provisioningState eq 'Running'" } });
      assert.equal(running.body.value.map((d: { name: string }) => d.name), ['release-1']);
      assert.equal(Object.keys(running.body.value[0].properties).sort(), ['correlationId', 'dependencies', 'duration', 'mode', 'outputs', 'parameters', 'providers', 'provisioningState', 'timestamp']);
      assert.match(running.body.value[0].properties.duration, /^PT\d+(\.\d+)?S$/);
      const desc = await armRequest('GET', `${MG('finance')}/descendants`, { apiVersion: '2020-05-01', cfg: cfg2 });
      assert.equal(desc.body.value.map((d: { type: string }) => d.type), ['/subscriptions']);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

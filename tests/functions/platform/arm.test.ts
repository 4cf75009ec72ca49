// The ARM adapter's configuration: endpoint, token and per-client trust of the sandbox's CA.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armCredential, armRequest, resourceGraphClient, policyInsightsClient, PUBLIC_ARM_ENDPOINT } from '../../../functions/platform/arm.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

test('without NEXUS_ARM_* the adapter targets public ARM with DefaultAzureCredential', () => {
  const cfg = armConfig(loadConfig({}).arm);
  assert.is(cfg.endpoint, PUBLIC_ARM_ENDPOINT);
  assert.is(cfg.token, undefined);
  assert.is(cfg.ca, undefined);
  assert.is(armCredential(cfg).constructor.name, 'DefaultAzureCredential');
});

test('bad settings are named', () => {
  // The endpoint is checked with every other setting at start (functions/runtime/config.ts)...
  assert.throws(() => loadConfig({ NEXUS_ARM_ENDPOINT: 'http://127.0.0.1:1' }), /NEXUS_ARM_ENDPOINT: must be an https URL/);
  assert.throws(() => loadConfig({ NEXUS_ARM_ENDPOINT: 'not a url' }), /NEXUS_ARM_ENDPOINT: must be an https URL .*got "not a url"/);
  // ...the CA file when the adapter reads it.
  assert.throws(() => armConfig(loadConfig({ NEXUS_ARM_ENDPOINT: 'https://x', NEXUS_ARM_CA_FILE: '/nope/ca.pem' }).arm), /NEXUS_ARM_CA_FILE '\/nope\/ca.pem' cannot be read/);
});

test('a token in the environment is handed out as is', async () => {
  const t = await armCredential(armConfig(loadConfig({ NEXUS_ARM_ENDPOINT: 'https://x', NEXUS_ARM_TOKEN: 'tok' }).arm)).getToken('https://management.azure.com/.default');
  assert.is(t?.token, 'tok');
});

test('the sandbox certificate is trusted per client through NEXUS_ARM_CA_FILE, not process-wide', async () => {
  const sb = await sandbox();
  assert.is.not(process.env.NODE_EXTRA_CA_CERTS, sb.caFile, 'the test process does not trust the sandbox globally');
  const withCa = await armRequest('GET', '/providers/Microsoft.Management/managementGroups', { apiVersion: '2021-04-01', cfg: armConfig(loadConfig(sb.env).arm) });
  assert.is(withCa.status, 200);
  const { NEXUS_ARM_CA_FILE: _omit, ...noCa } = sb.env;
  try {
    await armRequest('GET', '/providers/Microsoft.Management/managementGroups', { apiVersion: '2021-04-01', cfg: armConfig(loadConfig(noCa).arm) });
    assert.unreachable('a self-signed certificate was trusted without the CA file');
  } catch (e) {
    assert.match(String((e as Error).message), /self[- ]signed|certificate/i);
  }
  // Both SDK clients get the same trust.
  const graph = await resourceGraphClient(armConfig(loadConfig(sb.env).arm)).resources({ query: 'resourcecontainers | limit 1' });
  assert.is(graph.count, 1);
  const pi = await policyInsightsClient(armConfig(loadConfig(sb.env).arm)).policyStates.summarizeForManagementGroup('latest', sb.tenantId);
  assert.ok(Array.isArray(pi.value));
});

test('armRequest returns ARM errors instead of throwing and accepts nextLink URLs', async () => {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const missing = await armRequest('GET', '/providers/Microsoft.Management/managementGroups/does-not-exist', { apiVersion: '2021-04-01', cfg });
  assert.is(missing.status, 404);
  assert.is(missing.body.error.code, 'ManagementGroupNotFound');
  const full = await armRequest('GET', `${sb.url}/providers/Microsoft.Management/managementGroups?api-version=2021-04-01`, { apiVersion: 'ignored', cfg });
  assert.is(full.status, 200);
  assert.ok(full.body.value.some((g: { name: string }) => g.name === sb.tenantId));
});

test.run();

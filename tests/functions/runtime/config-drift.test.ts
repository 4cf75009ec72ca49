// The drift settings: the Activity Log's workspace and query endpoint, Nexus's own identities (with the
// sandbox default only on a loopback ARM endpoint) and the tenant rules file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig } from '../../../functions/runtime/config.ts';

test('defaults: Azure\'s public Log Analytics API, no workspace, no identities in Azure', () => {
  const c = loadConfig({});
  assert.equal(c.drift, { enabled: true, activityLogWorkspaceId: undefined, logAnalyticsEndpoint: 'https://api.loganalytics.io/v1', selfIdentities: [], rulesFile: undefined });
});

test('NEXUS_DRIFT=0 turns the drift step off', () => {
  assert.is(loadConfig({ NEXUS_DRIFT: '0' }).drift.enabled, false);
  assert.throws(() => loadConfig({ NEXUS_DRIFT: 'maybe' }), /NEXUS_DRIFT/);
});

test('on the sandbox (a loopback ARM endpoint) Nexus is nexus@sandbox unless identities are given', () => {
  assert.equal(loadConfig({ NEXUS_ARM_ENDPOINT: 'https://127.0.0.1:8443' }).drift.selfIdentities, ['nexus@sandbox']);
  assert.equal(loadConfig({ NEXUS_ARM_ENDPOINT: 'https://localhost:8443/' }).drift.selfIdentities, ['nexus@sandbox']);
  assert.equal(loadConfig({ NEXUS_ARM_ENDPOINT: 'https://management.usgovcloudapi.net' }).drift.selfIdentities, []);
  assert.equal(loadConfig({ NEXUS_ARM_ENDPOINT: 'https://127.0.0.1:8443', NEXUS_DRIFT_SELF_IDENTITIES: ' 1111-a , app-2 ,' }).drift.selfIdentities, ['1111-a', 'app-2']);
});

test('values are parsed; the endpoint loses its trailing slash; the workspace id is a GUID', () => {
  const c = loadConfig({
    NEXUS_ACTIVITY_LOG_WORKSPACE_ID: 'A1B2C3D4-0000-4000-8000-0000000000AA',
    NEXUS_LOG_ANALYTICS_ENDPOINT: 'https://api.loganalytics.us/v1/',
    NEXUS_DRIFT_RULES: '/etc/nexus/drift-rules.yaml',
  });
  assert.equal(c.drift, {
    enabled: true, activityLogWorkspaceId: 'a1b2c3d4-0000-4000-8000-0000000000aa', logAnalyticsEndpoint: 'https://api.loganalytics.us/v1',
    selfIdentities: [], rulesFile: '/etc/nexus/drift-rules.yaml',
  });
});

test('bad values are named', () => {
  try {
    loadConfig({ NEXUS_ACTIVITY_LOG_WORKSPACE_ID: 'my-workspace', NEXUS_LOG_ANALYTICS_ENDPOINT: 'http://api.loganalytics.io/v1' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ConfigError);
    const problems = (e as ConfigError).problems;
    assert.equal(problems.map((p) => p.variable).sort(), ['NEXUS_ACTIVITY_LOG_WORKSPACE_ID', 'NEXUS_LOG_ANALYTICS_ENDPOINT']);
    assert.match(problems.find((p) => p.variable === 'NEXUS_ACTIVITY_LOG_WORKSPACE_ID')!.message, /GUID/);
  }
});

test.run();

// The typed configuration: defaults when nothing is set, every problem named at once, bad values refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig } from '../../../functions/runtime/config.ts';
import { settingMeta, settingNames } from '../../../functions/runtime/settings.ts';

test('an empty environment gives the documented defaults', () => {
  const c = loadConfig({});
  assert.is(c.storage.endpointSuffix, 'core.windows.net');
  assert.is(c.storage.connectionString, undefined);
  assert.is(c.arm.endpoint, 'https://management.azure.com');
  assert.is(c.identity.audience, 'api://nexus');
  assert.is(c.identity.localIssuer, false);
  assert.equal(c.identity.roleGroups, {});
  assert.equal(c.reconcile, { holderId: undefined, leaseSeconds: 30, refreshFirst: true, concurrency: 2, intervalMinutes: 10, schedule: [], killSwitch: false });
  assert.equal(c.schedules, { reconcile: '0 * * * * *', resourceGraph: '0 */5 * * * *', pulumiState: '30 * * * * *', inbox: '*/15 * * * * *' });
  assert.is(c.catalog.refreshSeconds, 5);
  assert.equal(c.catalog.resourceGraphScopes, ['/']);
  assert.is(c.webhooks.drainIntervalMs, 2000);
  assert.is(c.server.port, 7070);
  assert.is(c.engine.resourceBackend, 'azure-native');
  assert.is(c.cli.apiUrl, 'http://127.0.0.1:7070');
});

test('values are parsed into their types, and empty values count as unset', () => {
  const c = loadConfig({
    NEXUS_LOCAL_ISSUER: '1', NEXUS_KILL_SWITCH: 'on', NEXUS_RECONCILE_REFRESH: '0', NEXUS_LEASE_SECONDS: '15',
    NEXUS_RECONCILE_SCHEDULE: 'stack:corp=5, domain:platform=30', NEXUS_ROLE_GROUPS: '{"Admin":["g1"]}',
    NEXUS_ALERTS_WEBHOOK_SECRET: 'a', NEXUS_PAGERDUTY_WEBHOOK_SECRET: 'p', NEXUS_ROOT_MG: 'alz',
    NEXUS_CATALOG_TRUSTED_REPOS: 'contoso/platform-*, contoso/people', NEXUS_ENTRA_AUTHORITY: 'https://login.example/',
    NEXUS_STORAGE_ACCOUNT: '', PORT: '0',
  });
  assert.is(c.identity.localIssuer, true);
  assert.is(c.reconcile.killSwitch, true);
  assert.is(c.reconcile.refreshFirst, false);
  assert.is(c.reconcile.leaseSeconds, 15);
  assert.equal(c.reconcile.schedule, [{ match: 'stack', pattern: 'corp', minutes: 5 }, { match: 'domain', pattern: 'platform', minutes: 30 }]);
  assert.equal(c.identity.roleGroups, { Admin: ['g1'] });
  assert.is(c.identity.authority, 'https://login.example');
  assert.equal(c.webhooks.secrets, { github: undefined, azureDevOps: undefined, azureMonitor: 'a', pagerDuty: 'p', opsgenie: 'a' });
  assert.equal(c.catalog.resourceGraphScopes, ['/providers/Microsoft.Management/managementGroups/alz']);
  assert.equal(c.catalog.trustedRepos, ['contoso/platform-*', 'contoso/people']);
  assert.is(c.storage.account, undefined);
  assert.is(c.server.port, 0);
});

test('every problem is named, not just the first', () => {
  let err: unknown;
  try {
    loadConfig({
      NEXUS_LEASE_SECONDS: '5', NEXUS_RECONCILE_SCHEDULE: 'stack:corp=0 * * * * *', NEXUS_ROLE_GROUPS: '{nope',
      PORT: 'seventy', NEXUS_ARM_ENDPOINT: 'http://127.0.0.1:1', NEXUS_KILL_SWITCH: 'maybe', NEXUS_STORAGE_ACCOUNT: 'Not_An_Account',
      NEXUS_RESOURCE_BACKEND: 'bicep', NEXUS_CATALOG_REFRESH_SECONDS: '-1', NEXUS_RECONCILE_TICK_CRON: '*/5 * * * *',
      NEXUS_CATALOG_TRUSTED_REPOS: 'contoso', NEXUS_RECONCILE_INTERVAL_MINUTES: 'ten',
    });
  } catch (e) {
    err = e;
  }
  assert.instance(err, ConfigError);
  const named = (err as ConfigError).problems.map((p) => p.variable).sort();
  assert.equal(named, [
    'NEXUS_ARM_ENDPOINT', 'NEXUS_CATALOG_REFRESH_SECONDS', 'NEXUS_CATALOG_TRUSTED_REPOS', 'NEXUS_KILL_SWITCH', 'NEXUS_LEASE_SECONDS',
    'NEXUS_RECONCILE_INTERVAL_MINUTES', 'NEXUS_RECONCILE_SCHEDULE', 'NEXUS_RECONCILE_TICK_CRON', 'NEXUS_RESOURCE_BACKEND',
    'NEXUS_ROLE_GROUPS', 'NEXUS_STORAGE_ACCOUNT', 'PORT',
  ]);
  const message = (err as Error).message;
  assert.match(message, /12 problems/);
  assert.match(message, /NEXUS_LEASE_SECONDS: must be at least 15 seconds \(got "5"\)/);
  assert.match(message, /NEXUS_ROLE_GROUPS: is not valid JSON/);
  assert.match(message, /NEXUS_ARM_ENDPOINT: must be an https URL/);
});

test('a secret\'s value is never echoed in a problem', () => {
  try {
    loadConfig({ NEXUS_ARM_TOKEN: 'x', NEXUS_STORAGE_CONNECTION_STRING: 'AccountKey=s3cret', NEXUS_LEASE_SECONDS: 'x', NEXUS_GITHUB_API_URL: 'not a url' });
    assert.unreachable('no problem found');
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.not.match((e as Error).message, /s3cret/);
    assert.match((e as Error).message, /NEXUS_GITHUB_API_URL: must be a URL \(got "not a url"\)/);
  }
});

test('every setting has a section and a one-line description; defaults parse', () => {
  for (const name of settingNames()) {
    const m = settingMeta(name);
    assert.ok(m.section, `${name} has a section`);
    assert.ok(m.description && !m.description.includes('\n'), `${name} has a one-line description`);
    if (m.default !== undefined) loadConfig({ [name]: m.default });
  }
});

test('the engine gets the environment without settings left empty (unset, as loadConfig reads them)', () => {
  const c = loadConfig({ PATH: '/usr/bin', NEXUS_RESOURCE_BACKEND: '', AZURE_STORAGE_ACCOUNT: ' ', NEXUS_STORAGE_ACCOUNT: 'nexusprod', PULUMI_CONFIG_PASSPHRASE: '' });
  assert.is(c.engine.resourceBackend, 'azure-native');
  assert.equal(Object.keys(c.engine.env).sort(), ['NEXUS_STORAGE_ACCOUNT', 'PATH', 'PULUMI_CONFIG_PASSPHRASE']);
  assert.is(c.engine.env.PULUMI_CONFIG_PASSPHRASE, '', 'an empty passphrase is a passphrase');
});

test.run();

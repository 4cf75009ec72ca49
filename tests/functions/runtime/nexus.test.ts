// The composition root: one openNexus builds every part once, hands the delivery handlers the
// reconciler (so a push can start a run), and lets a caller replace single parts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azurite } from '../../helpers/azurite.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { openNexus, type NexusPorts } from '../../../functions/runtime/nexus.ts';

async function config(extra: Record<string, string> = {}) {
  const az = await azurite();
  return loadConfig({ ...az.env, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-root-')), NEXUS_LOCAL_ISSUER: '1', NEXUS_CATALOG_REFRESH_SECONDS: '0', ...extra });
}

test('every part is built once and shared: the API, the handlers and the jobs see the same reconciler and catalog', async () => {
  let seen: NexusPorts | undefined;
  const nexus = await openNexus(await config({ NEXUS_HOLDER_ID: 'root-test', NEXUS_KILL_SWITCH: '1' }), {
    handlers: (ports) => { seen = ports; return {}; },
  });
  try {
    assert.ok(seen, 'the handlers were made from the ports');
    assert.is(seen!.reconcile, nexus.reconcile);
    assert.is(seen!.catalog, nexus.catalog);
    assert.is(nexus.deps.reconcile, nexus.reconcile);
    assert.is(nexus.deps.catalog, nexus.catalog);
    assert.is(nexus.deps.localIssuer, nexus.localIssuer);
    assert.ok(nexus.localIssuer, 'NEXUS_LOCAL_ISSUER=1 opens the local issuer');
    // The configuration reaches the reconciler as typed fields, not as the environment.
    assert.is(nexus.reconcile.deps.holderId, 'root-test');
    assert.is(nexus.reconcile.deps.concurrency, 2);
    assert.not.ok('env' in nexus.reconcile.deps);
    assert.is((await nexus.reconcile.killSwitch()).source, 'env', 'NEXUS_KILL_SWITCH forces the kill switch');
    assert.is(await nexus.jobs(), await nexus.jobs(), 'the jobs are made once');
  } finally {
    await nexus.close();
  }
});

test('a new delivery tells the listeners (the local server drains on it); a duplicate does not', async () => {
  const nexus = await openNexus(await config(), { handlers: {} });
  try {
    let told = 0;
    nexus.onDelivery(() => { told++; });
    const item = { source: 'github' as const, deliveryId: `root-${Date.now()}`, event: 'ping', payload: {}, receivedAt: new Date().toISOString() };
    assert.equal(await nexus.deps.inbox!.enqueue(item), { duplicate: false });
    assert.equal(await nexus.deps.inbox!.enqueue(item), { duplicate: true });
    assert.is(told, 1);
  } finally {
    await nexus.close();
  }
});

test('overrides replace single parts (another holder id) and leave the rest built', async () => {
  const nexus = await openNexus(await config(), { reconcileDeps: { holderId: 'swapped' } });
  try {
    assert.is(nexus.reconcile.deps.holderId, 'swapped');
    assert.equal(Object.keys(nexus.handlers).sort(), ['azure-devops', 'azure-monitor', 'github', 'opsgenie', 'pagerduty']);
  } finally {
    await nexus.close();
  }
});

test.run();

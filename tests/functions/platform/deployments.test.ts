// Running ARM deployments at or under a scope, through the production ARM adapter against the
// sandbox (deployments started and finished through its side door).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest } from '../../../functions/platform/arm.ts';
import { activeDeployments } from '../../../functions/platform/deployments.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);

async function setup() {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const put = async (id: string, body: unknown) => {
    const r = await armRequest('PUT', id, { apiVersion: '2021-04-01', body, cfg });
    if (r.status >= 300) throw new Error(`PUT ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const side = (path: string, body: unknown) => armRequest('POST', path, { apiVersion: 'sandbox', body, cfg });
  const top = `dep-${uniq()}`;
  const child = `dep-child-${uniq()}`;
  await put(MG(top), {});
  await put(MG(child), { properties: { details: { parent: { id: MG(top) } } } });
  const subA = randomUUID();
  const subB = randomUUID();
  sb.state.addSubscription({ subscriptionId: subA, managementGroupId: child });
  sb.state.addSubscription({ subscriptionId: subB, managementGroupId: top });
  const rgA = `/subscriptions/${subA}/resourceGroups/app`;
  await put(rgA, { location: 'westeurope' });
  return { sb, cfg, side, top, child, subA, subB, rgA };
}

const ctx = setup();

test('a running deployment in a resource group is found at its subscription and at every group above', async () => {
  const { side, top, child, subA, subB, rgA } = await ctx;
  const started = await side('/_sandbox/deployments/start', { scope: rgA, name: 'app-release' });
  assert.is(started.status, 200, JSON.stringify(started.body));
  assert.is(started.body.properties.provisioningState, 'Running');
  for (const scope of [rgA, `/subscriptions/${subA}`, MG(child), MG(top)]) {
    const r = await activeDeployments(scope, { cfg: (await ctx).cfg });
    assert.equal(r.deployments.map((d) => [d.name, d.provisioningState, d.scope.toLowerCase()]), [['app-release', 'Running', rgA.toLowerCase()]], scope);
    assert.not.ok(r.truncated);
    assert.ok(r.deployments[0].correlationId);
  }
  const other = await activeDeployments(`/subscriptions/${subB}`, { cfg: (await ctx).cfg });
  assert.equal(other.deployments, [], 'a sibling subscription is not affected');
  const finished = await side('/_sandbox/deployments/finish', { scope: rgA, name: 'app-release' });
  assert.is(finished.body.properties.provisioningState, 'Succeeded');
  const after = await activeDeployments(MG(top), { cfg: (await ctx).cfg });
  assert.equal(after.deployments, [], 'a finished deployment is not running');
});

test('Accepted deployments at subscription and management group scope count; the list filter is ARM\'s', async () => {
  const { cfg, side, top, child, subB } = await ctx;
  await side('/_sandbox/deployments/start', { scope: `/subscriptions/${subB}`, name: 'sub-level', state: 'Accepted' });
  await side('/_sandbox/deployments/start', { scope: MG(child), name: 'mg-level' });
  const r = await activeDeployments(MG(top), { cfg });
  assert.equal(r.deployments.map((d) => `${d.name}:${d.provisioningState}`).sort(), ['mg-level:Running', 'sub-level:Accepted']);
  assert.is(r.scopesChecked, 5, 'two groups, two subscriptions, one resource group');

  const list = await armRequest('GET', `/subscriptions/${subB}/providers/Microsoft.Resources/deployments`, { apiVersion: '2021-04-01', cfg, query: { $filter: "provisioningState eq 'Running'" } });
  assert.equal(list.body.value, [], 'Accepted is not Running');
  const all = await armRequest('GET', `/subscriptions/${subB}/providers/Microsoft.Resources/deployments`, { apiVersion: '2021-04-01', cfg });
  assert.is(all.body.value[0].type, 'Microsoft.Resources/deployments');
  const bad = await armRequest('GET', `/subscriptions/${subB}/providers/Microsoft.Resources/deployments`, { apiVersion: '2021-04-01', cfg, query: { $filter: "name eq 'x'" } });
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /provisioningState eq/);

  await side('/_sandbox/deployments/finish', { scope: `/subscriptions/${subB}`, name: 'sub-level', state: 'Failed' });
  await side('/_sandbox/deployments/finish', { scope: MG(child), name: 'mg-level', state: 'Canceled' });
  assert.equal((await activeDeployments(MG(top), { cfg })).deployments, []);
});

test('the walk is bounded and says so; a missing scope is an error naming it', async () => {
  const { cfg, side, top } = await ctx;
  await side('/_sandbox/deployments/start', { scope: MG(top), name: `capped-${uniq()}` });
  const r = await activeDeployments(MG(top), { cfg, maxScopes: 2 });
  assert.ok(r.truncated);
  assert.is(r.scopesChecked, 2);
  assert.is(r.deployments.length, 1, 'the scope itself is always checked');
  try {
    await activeDeployments(MG(`missing-${uniq()}`), { cfg });
    assert.unreachable('accepted');
  } catch (e) {
    assert.match((e as Error).message, /missing-.*404/);
  }
});

test('the side door refuses what ARM would not hold', async () => {
  const { side, rgA, cfg } = await ctx;
  const name = `twice-${uniq()}`;
  assert.is((await side('/_sandbox/deployments/start', { scope: rgA, name })).status, 200);
  const again = await side('/_sandbox/deployments/start', { scope: rgA, name });
  assert.is(again.status, 409);
  const nowhere = await side('/_sandbox/deployments/start', { scope: `/subscriptions/${randomUUID()}`, name: 'x' });
  assert.is(nowhere.status, 404);
  assert.match(nowhere.body.error.message, /scope/);
  const noName = await side('/_sandbox/deployments/finish', { scope: rgA });
  assert.is(noName.status, 400);
  assert.match(noName.body.error.message, /body\.name/);
  const put = await armRequest('PUT', `${rgA}/providers/Microsoft.Resources/deployments/x`, { apiVersion: '2021-04-01', cfg, body: {} });
  assert.is(put.status, 405, 'deployments start only through the side door');
  await side('/_sandbox/deployments/finish', { scope: rgA, name });
});

test.run();

// The side door (drift and deletes behind Nexus's back) and the sandbox's env for child processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest } from '../../../functions/platform/arm.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, env?: Record<string, string>) {
  const sb = await sandbox();
  return armRequest(method, path, { apiVersion: '2021-04-01', body, cfg: armConfig(loadConfig(env ?? sb.env).arm) });
}

test('drift through the side door is recorded with who made it and the before/after snapshots', async () => {
  const g = `sd-${uniq()}`;
  await call('PUT', MG(g), { properties: { displayName: 'Before' } });
  const started = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  const r = await call('POST', '/_sandbox/resources/update', { id: MG(g), patch: { properties: { displayName: 'After' } }, changedBy: 'eve@contoso.example' });
  assert.is(r.status, 200);
  assert.is(r.body.properties.displayName, 'After');
  const live = await call('GET', MG(g));
  assert.is(live.body.properties.displayName, 'After', 'ARM serves the drifted resource');
  const changes = await call('GET', `/_sandbox/changes?since=${encodeURIComponent(started)}`);
  const mine = changes.body.value.filter((c: any) => c.resourceId === MG(g));
  assert.is(mine.length, 1);
  assert.is(mine[0].changeType, 'Update');
  assert.is(mine[0].changedBy, 'eve@contoso.example');
  assert.is(mine[0].before.properties.displayName, 'Before');
  assert.is(mine[0].after.properties.displayName, 'After');
  assert.equal(mine[0].changes['properties.displayName'], { previousValue: 'Before', newValue: 'After', propertyChangeType: 'Update' });
});

test('side-door writes are validated like ARM writes; deletes follow ARM rules', async () => {
  const sb = await sandbox();
  const g = `sd-${uniq()}`;
  const child = `sd-${uniq()}`;
  await call('PUT', MG(g), {});
  await call('PUT', MG(child), { properties: { details: { parent: { id: MG(g) } } } });
  let r = await call('POST', '/_sandbox/resources/update', { id: MG(g), patch: { properties: { details: { parent: { id: MG(child) } } } } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'InvalidManagementGroupParent');
  r = await call('POST', '/_sandbox/resources/update', { id: MG(`missing-${uniq()}`), patch: {} });
  assert.is(r.status, 404);
  r = await call('POST', '/_sandbox/resources/delete', { id: MG(g) });
  assert.is(r.status, 409);
  r = await call('POST', '/_sandbox/resources/delete', { id: MG(child), changedBy: 'eve@contoso.example' });
  assert.is(r.status, 200);
  assert.is((await call('GET', MG(child))).status, 404);
  const del = sb.state.changes().filter((c) => c.resourceId === MG(child) && c.changeType === 'Delete');
  assert.is(del.length, 1);
  assert.is(del[0].changedBy, 'eve@contoso.example');
  assert.is(del[0].after, undefined);
  r = await call('POST', '/_sandbox/resources/put', { id: `${MG(g)}/providers/Microsoft.Authorization/policyDefinitions/p`, body: { properties: {} } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'InvalidPolicyRule');
  r = await call('POST', '/_sandbox/resources/update', { patch: {} });
  assert.is(r.status, 400);
  assert.match(r.body.error.message, /body\.id/);
  r = await call('POST', '/_sandbox/nothing-here', {});
  assert.is(r.status, 404);
});

test('the side door needs the token; the health check does not', async () => {
  const sb = await sandbox();
  const r = await call('GET', '/_sandbox/state', undefined, { ...sb.env, NEXUS_ARM_TOKEN: 'wrong' });
  assert.is(r.status, 401);
  const h = await call('GET', '/_sandbox/health', undefined, { ...sb.env, NEXUS_ARM_TOKEN: 'wrong' });
  assert.is(h.status, 200);
  const s = await call('GET', '/_sandbox/state');
  assert.is(s.body.rootManagementGroupId, MG(sb.tenantId));
});

test('a child Node process reaches the sandbox with plain fetch using only the env map', async () => {
  const sb = await sandbox();
  const script = `const r = await fetch(process.env.NEXUS_ARM_ENDPOINT + '/providers/Microsoft.Management/managementGroups?api-version=2021-04-01', { headers: { authorization: 'Bearer ' + process.env.NEXUS_ARM_TOKEN } }); console.log(r.status);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', ...sb.env } });
  assert.is(stdout.trim(), '200');
});

test.run();

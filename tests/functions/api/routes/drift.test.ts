// The drift and compliance routes on the real app: drift reports from the real DriftStore in
// Azurite, the compliance view from a plain function standing for its module; tokens from the local
// issuer. Who may read, what a missing report or port answers, and bad input naming its field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, uniqueName, type Harness } from '../harness.ts';
import { DriftStore } from '../../../../functions/drift/store.ts';
import { newRunId } from '../../../../functions/reconcile/store/index.ts';
import { NewestFirstKeys } from '../../../../functions/platform/tables.ts';
import { storageFrom } from '../../../helpers/config.ts';
import { compliancePort, sampleCompliance, sampleReport, SUB } from '../../../helpers/drift.ts';

const ids = new NewestFirstKeys();
let h: Harness;
let store: DriftStore;
const STACK = uniqueName('drift');
const asked: Array<string | undefined> = [];

test.before(async () => {
  h = await harness();
  store = await DriftStore.open(storageFrom(h.env));
  h.deps.drift = { report: (stack, runId) => store.get(stack, runId) };
  h.deps.compliance = compliancePort(sampleCompliance(), asked);
});

const json = async (res: Response) => ({ status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any });

test('a stack\'s latest report, and the report of one run, read by any signed-in role', async () => {
  const older = newRunId(undefined, ids);
  const newer = newRunId(undefined, ids);
  await store.save(sampleReport(STACK, older, '2026-12-01T09:00:00.000Z'));
  await store.save({ ...sampleReport(STACK, newer, '2026-12-01T10:00:00.000Z'), items: [], counts: {} });
  for (const role of ['Developer', 'PlatformEngineer', 'TeamLead', 'Admin'] as const) {
    const latest = await json(await h.call('GET', `/api/v1/stacks/${STACK}/drift`, { token: await h.token('reader', [role]) }));
    assert.is(latest.status, 200, role);
    assert.equal([latest.body.runId, latest.body.items.length], [newer, 0], role);
  }
  const dev = await h.token('dev', ['Developer']);
  const one = await json(await h.call('GET', `/api/v1/stacks/${STACK}/drift?run=${older}`, { token: dev }));
  assert.is(one.status, 200);
  // The stored report, exactly (values of any JSON type survive, nothing is dropped).
  assert.equal(one.body, sampleReport(STACK, older, '2026-12-01T09:00:00.000Z'));
});

test('no report: 404 naming the stack, or the run and its stack', async () => {
  const dev = await h.token('dev', ['Developer']);
  const none = uniqueName('nodrift');
  const stack = await json(await h.call('GET', `/api/v1/stacks/${none}/drift`, { token: dev }));
  assert.is(stack.status, 404);
  assert.is(stack.type, 'application/problem+json');
  assert.equal([stack.body.detail, stack.body.field], [`no drift report of stack '${none}' yet`, 'path.stack']);
  const run = newRunId(undefined, ids);
  const missing = await json(await h.call('GET', `/api/v1/stacks/${STACK}/drift?run=${run}`, { token: dev }));
  assert.is(missing.status, 404);
  assert.equal([missing.body.detail, missing.body.field], [`no drift report of run '${run}' of stack '${STACK}'`, 'query.run']);
});

test('bad stack and run names are 400s naming the field; nothing reaches the store', async () => {
  const dev = await h.token('dev', ['Developer']);
  const reads: string[] = [];
  const saved = h.deps.drift;
  h.deps.drift = { report: async (stack, runId) => { reads.push(`${stack}/${runId}`); return undefined; } };
  try {
    for (const [path, field] of [
      [`/api/v1/stacks/-x/drift`, 'path.stack'],
      [`/api/v1/stacks/${'a'.repeat(91)}/drift`, 'path.stack'],
      [`/api/v1/stacks/a%2F..%2Fb/drift`, 'path.stack'],
      // `latest` is the stack's pointer blob, never a run.
      [`/api/v1/stacks/${STACK}/drift?run=latest`, 'query.run'],
      [`/api/v1/stacks/${STACK}/drift?run=..%2F..%2Fx`, 'query.run'],
    ] as const) {
      const res = await json(await h.call('GET', path, { token: dev }));
      assert.is(res.status, 400, path);
      assert.is(res.body.field, field, path);
    }
    assert.equal(reads, []);
  } finally {
    h.deps.drift = saved;
  }
});

test('the compliance view of every scope, or of one; a scope that is not an MG or subscription id is a 400', async () => {
  const dev = await h.token('dev', ['Developer']);
  asked.length = 0;
  const all = await json(await h.call('GET', '/api/v1/compliance', { token: dev }));
  assert.is(all.status, 200);
  assert.equal(all.body, sampleCompliance());
  const mg = '/providers/Microsoft.Management/managementGroups/alz';
  const one = await json(await h.call('GET', `/api/v1/compliance?scope=${encodeURIComponent(mg)}`, { token: dev }));
  assert.is(one.status, 200);
  assert.equal(one.body.scopes.map((s: { scope: string }) => s.scope), [mg]);
  const sub = await json(await h.call('GET', `/api/v1/compliance?scope=${encodeURIComponent(`/subscriptions/${SUB}`)}`, { token: dev }));
  assert.equal(sub.body.scopes.map((s: { kind: string }) => s.kind), ['subscription']);
  assert.equal(asked, [undefined, mg, `/subscriptions/${SUB}`]);
  for (const bad of ['alz', `/subscriptions/not-a-guid`, `/subscriptions/${SUB}/resourceGroups/rg`, '/providers/Microsoft.Management/managementGroups/', `${mg}/../x`, 'x'.repeat(300)]) {
    const res = await json(await h.call('GET', `/api/v1/compliance?scope=${encodeURIComponent(bad)}`, { token: dev }));
    assert.is(res.status, 400, bad);
    assert.is(res.body.field, 'query.scope', bad);
  }
  assert.is(asked.length, 3, 'a refused scope never reaches the port');
});

test('without a token: 401 on both routes, before any port is asked', async () => {
  for (const path of [`/api/v1/stacks/${STACK}/drift`, '/api/v1/compliance', '/api/v1/compliance?scope=bad']) {
    const res = await json(await h.call('GET', path));
    assert.is(res.status, 401, path);
    assert.is(res.body.field, 'header.authorization');
  }
});

test('a port that is not configured: 503 saying what is missing', async () => {
  const dev = await h.token('dev', ['Developer']);
  const [drift, compliance] = [h.deps.drift, h.deps.compliance];
  h.deps.drift = undefined;
  h.deps.compliance = undefined;
  try {
    const d = await json(await h.call('GET', `/api/v1/stacks/${STACK}/drift`, { token: dev }));
    assert.is(d.status, 503);
    assert.match(d.body.detail, /drift reports are not configured/);
    const c = await json(await h.call('GET', '/api/v1/compliance', { token: dev }));
    assert.is(c.status, 503);
    assert.match(c.body.detail, /compliance view is not configured/);
  } finally {
    h.deps.drift = drift;
    h.deps.compliance = compliance;
  }
});

test('a stored report not of the declared shape is the server\'s 500 (logged), not passed on', async () => {
  const dev = await h.token('dev', ['Developer']);
  const saved = h.deps.drift;
  h.deps.drift = { report: async () => ({ stack: STACK, items: 'nope' }) as never };
  const error = console.error;
  const logged: string[] = [];
  console.error = (m: string) => void logged.push(m);
  try {
    const res = await json(await h.call('GET', `/api/v1/stacks/${STACK}/drift`, { token: dev }));
    assert.is(res.status, 500);
    assert.match(logged.join('\n'), /the drift report do not match the API's schema/);
  } finally {
    console.error = error;
    h.deps.drift = saved;
  }
});

test('the OpenAPI document lists both routes with their schemas', async () => {
  const doc = (await (await h.call('GET', '/api/v1/openapi.json', { token: await h.token('dev', ['Developer']) })).json()) as any;
  const drift = doc.paths['/api/v1/stacks/{stack}/drift'].get;
  assert.equal(drift.parameters.map((p: { name: string; in: string }) => `${p.in}.${p.name}`).sort(), ['path.stack', 'query.run']);
  assert.is(drift.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/DriftReport');
  assert.is(doc.paths['/api/v1/compliance'].get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/ComplianceView');
  assert.ok(doc.components.schemas.DriftItem && doc.components.schemas.ScopeCompliance);
});

test.run();

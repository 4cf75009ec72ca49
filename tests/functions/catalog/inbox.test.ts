import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { Inbox, type Delivery } from '../../../functions/catalog/inbox.ts';
import { waitFor } from '../../helpers/wait.ts';

async function freshInbox(clock: { t: number }, maxAttempts = 3) {
  const storage = storageConfig({ connectionString: (await azurite()).connectionString });
  const id = randomBytes(4).toString('hex');
  return Inbox.open({ storage, table: `dlv${id}`, container: `dlv${id}`, maxAttempts, now: () => new Date(clock.t) });
}

test('a delivery id is queued once; processing marks it done', async () => {
  const clock = { t: Date.parse('2026-11-25T10:00:00Z') };
  const inbox = await freshInbox(clock);
  assert.equal(await inbox.enqueue({ source: 'github', deliveryId: 'd-1', event: 'push', payload: { ref: 'refs/heads/main' } }), { duplicate: false });
  assert.equal(await inbox.enqueue({ source: 'github', deliveryId: 'd-1', event: 'push', payload: { ref: 'refs/heads/main' } }), { duplicate: true });
  // The same id from another source is another delivery.
  assert.equal(await inbox.enqueue({ source: 'azure-devops', deliveryId: 'd-1', event: 'build.complete', payload: {} }), { duplicate: false });
  const seen: Delivery[] = [];
  const handler = async (d: Delivery) => { seen.push(d); };
  assert.equal(await inbox.drain({ github: handler, 'azure-devops': handler }), { done: 2, failed: 0, dead: 0 });
  assert.equal(seen.map((d) => `${d.source} ${d.deliveryId} ${d.event}`).sort(), ['azure-devops d-1 build.complete', 'github d-1 push']);
  assert.equal(seen.find((d) => d.source === 'github')!.payload, { ref: 'refs/heads/main' });
  assert.is((await inbox.status('github', 'd-1'))?.status, 'done');
  assert.equal(await inbox.drain({ github: handler }), { done: 0, failed: 0, dead: 0 }, 'nothing twice');
});

test('a failing delivery keeps its error, is retried after backoff, and ends dead but kept', async () => {
  const clock = { t: Date.parse('2026-11-25T10:00:00Z') };
  const inbox = await freshInbox(clock, 2);
  await inbox.enqueue({ source: 'github', deliveryId: 'flaky', event: 'push', payload: { n: 1 } });
  await inbox.enqueue({ source: 'github', deliveryId: 'broken', event: 'push', payload: { n: 2 } });
  let calls = 0;
  const handler = async (d: Delivery) => {
    if ((d.payload as { n: number }).n === 2) throw new Error('cannot parse this');
    if (calls++ === 0) throw new Error('storage hiccup');
  };
  assert.equal(await inbox.drain({ github: handler }), { done: 0, failed: 2, dead: 0 });
  assert.equal(await inbox.status('github', 'flaky'), { status: 'failed', attempts: 1, error: 'storage hiccup', event: 'push' });
  // Not due again until the backoff has passed.
  assert.equal(await inbox.drain({ github: handler }), { done: 0, failed: 0, dead: 0 });
  clock.t += 3000;
  assert.equal(await inbox.drain({ github: handler }), { done: 1, failed: 0, dead: 1 });
  assert.is((await inbox.status('github', 'flaky'))?.status, 'done');
  assert.equal(await inbox.status('github', 'broken'), { status: 'dead', attempts: 2, error: 'cannot parse this', event: 'push' });
  // A dead delivery is still there and can be put back.
  assert.ok(await inbox.retry('github', 'broken'));
  assert.equal(await inbox.drain({ github: async () => undefined }), { done: 1, failed: 0, dead: 0 });
});

test('a delivery without a handler fails with a clear error; large payloads go through a blob', async () => {
  const clock = { t: Date.parse('2026-11-25T10:00:00Z') };
  const inbox = await freshInbox(clock);
  await inbox.enqueue({ source: 'pagerduty', deliveryId: 'p-1', event: 'incident.triggered', payload: {} });
  await inbox.drain({});
  assert.match((await inbox.status('pagerduty', 'p-1'))!.error!, /no handler for deliveries from 'pagerduty'/);
  const big = { files: Array.from({ length: 20_000 }, (_, i) => `src/module-${i}/index-with-a-long-name.ts`) };
  await inbox.enqueue({ source: 'github', deliveryId: 'big', event: 'push', payload: big });
  let got: unknown;
  await inbox.drain({ github: async (d) => { got = d.payload; } });
  assert.equal(got, big);
});

test('a delivery its handler applied nothing of ends skipped with the reasons; a partly skipped one is done', async () => {
  const clock = { t: Date.parse('2026-11-25T10:00:00Z') };
  const inbox = await freshInbox(clock);
  await inbox.enqueue({ source: 'azure-devops', deliveryId: 'push-1', event: 'git.push', payload: {} });
  await inbox.enqueue({ source: 'github', deliveryId: 'push-2', event: 'push', payload: {} });
  const result = await inbox.drain({
    'azure-devops': async () => ({ upserted: [], orphaned: [], skipped: ['git.push: not a catalog event'] }),
    github: async () => ({ upserted: ['repository:default/hello'], orphaned: [], skipped: ['docs/catalog.yaml: not a catalog file'] }),
  });
  assert.equal(result, { done: 2, failed: 0, dead: 0 });
  const skipped = await inbox.status('azure-devops', 'push-1');
  assert.equal([skipped?.status, skipped?.skipped, skipped?.error], ['skipped', ['git.push: not a catalog event'], undefined]);
  const partly = await inbox.status('github', 'push-2');
  assert.equal([partly?.status, partly?.skipped], ['done', ['docs/catalog.yaml: not a catalog file']]);
  // Skipped is final: it is not drained again.
  assert.equal(await inbox.drain({ 'azure-devops': async () => { throw new Error('not again'); } }), { done: 0, failed: 0, dead: 0 });
});

test('pump drains soon after enqueue and stops cleanly', async () => {
  const inbox = await freshInbox({ t: Date.now() });
  const seen: string[] = [];
  const pump = inbox.pump({ github: async (d) => { seen.push(d.deliveryId); } }, { intervalMs: 60_000 });
  await inbox.enqueue({ source: 'github', deliveryId: 'auto', event: 'ping', payload: {} });
  await waitFor(() => seen.length > 0, { what: 'the pump to drain the delivery enqueued', timeoutMs: 5000 });
  await pump.stop();
  assert.equal(seen, ['auto']);
});

test.run();

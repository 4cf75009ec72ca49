// The webhook inbox on a real table and real queues (Azurite): de-duplication by delivery id,
// redelivery after the visibility timeout, the poison queue with the reason, the re-send of a
// message whose sending was cut short, and retention.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { Inbox, type Delivery, type InboxConfig } from '../../../functions/catalog/inbox.ts';
import { processQueueMessage, DeliveryNotFinished } from '../../../functions/catalog/inbox-trigger.ts';
import { BlobStore } from '../../../functions/platform/blobs.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';

const T0 = Date.parse('2026-11-25T10:00:00Z');

async function freshInbox(opts: Partial<InboxConfig> & { clock?: { t: number } } = {}) {
  const storage = storageConfig({ connectionString: (await azurite()).connectionString });
  const id = randomBytes(4).toString('hex');
  const { clock, ...rest } = opts;
  const cfg: InboxConfig = { storage, table: `dlv${id}`, container: `dlv${id}`, maxAttempts: 3, ...(clock ? { now: () => new Date(clock.t) } : {}), ...rest };
  return { inbox: await Inbox.open(cfg), cfg, storage, queueName: `dlv${id}` };
}

const none = { done: 0, failed: 0, poisoned: 0, repeated: 0 };

test('a delivery id is queued once; processing marks it done; a second message of it does not run the handler', async () => {
  const { inbox } = await freshInbox();
  assert.equal(await inbox.enqueue({ source: 'github', deliveryId: 'd-1', event: 'push', payload: { ref: 'refs/heads/main' } }), { duplicate: false });
  assert.equal(await inbox.enqueue({ source: 'github', deliveryId: 'd-1', event: 'push', payload: { ref: 'refs/heads/main' } }), { duplicate: true });
  // The same id from another source is another delivery.
  assert.equal(await inbox.enqueue({ source: 'azure-devops', deliveryId: 'd-1', event: 'build.complete', payload: {} }), { duplicate: false });
  assert.is(await inbox.queue.approximateCount(), 2, 'the duplicate sent no message');
  assert.is((await inbox.status('github', 'd-1'))?.status, 'pending');
  const seen: Delivery[] = [];
  const handler = async (d: Delivery) => { seen.push(d); };
  assert.equal(await inbox.drain({ github: handler, 'azure-devops': handler }), { ...none, done: 2 });
  assert.equal(seen.map((d) => `${d.source} ${d.deliveryId} ${d.event}`).sort(), ['azure-devops d-1 build.complete', 'github d-1 push']);
  assert.equal(seen.find((d) => d.source === 'github')!.payload, { ref: 'refs/heads/main' });
  assert.equal(await inbox.status('github', 'd-1'), { status: 'done', attempts: 1, error: undefined, event: 'push' });
  assert.is(await inbox.queue.approximateCount(), 0, 'processed messages are deleted');
  assert.equal(await inbox.drain({ github: handler }), none, 'nothing twice');
  // A stray second message for a finished delivery (a re-send) is acknowledged without the handler.
  await inbox.queue.send({ source: 'github', deliveryId: 'd-1' });
  assert.equal(await inbox.drain({ github: handler }), { ...none, repeated: 1 });
  assert.is(seen.length, 2);
  assert.is(await inbox.queue.approximateCount(), 0);
});

test('a failing delivery keeps its error, comes back after the backoff, and is poisoned with the reason after the last attempt', async () => {
  const { inbox } = await freshInbox({ maxAttempts: 2 });
  await inbox.enqueue({ source: 'github', deliveryId: 'flaky', event: 'push', payload: { n: 1 } });
  await inbox.enqueue({ source: 'github', deliveryId: 'broken', event: 'push', payload: { n: 2 } });
  let calls = 0;
  const handlers = {
    github: async (d: Delivery) => {
      if ((d.payload as { n: number }).n === 2) throw new Error('cannot parse this');
      if (calls++ === 0) throw new Error('storage hiccup');
    },
  };
  assert.equal(await inbox.drain(handlers), { ...none, failed: 2 });
  assert.equal(await inbox.status('github', 'flaky'), { status: 'failed', attempts: 1, error: 'storage hiccup', event: 'push' });
  // Hidden for the backoff (2 s after the first attempt), then handed out again.
  assert.equal(await inbox.drain(handlers), none);
  await sleep(2200);
  assert.equal(await inbox.drain(handlers), { ...none, done: 1, poisoned: 1 });
  assert.equal(await inbox.status('github', 'flaky'), { status: 'done', attempts: 2, error: undefined, event: 'push' });
  assert.equal(await inbox.status('github', 'broken'), { status: 'poisoned', attempts: 2, error: 'failed 2 times; last error: cannot parse this', event: 'push' });
  assert.is(await inbox.queue.approximateCount(), 0, 'the poisoned message left the queue');
  const poisoned = (await inbox.poison.peek()) as Array<{ source: string; deliveryId: string; reason: string; attempts: number }>;
  assert.equal(poisoned.map((p) => [p.source, p.deliveryId, p.reason, p.attempts]), [['github', 'broken', 'failed 2 times; last error: cannot parse this', 2]]);
  // A poisoned delivery is still there and can be put back.
  assert.ok(await inbox.retry('github', 'broken'));
  assert.equal(await inbox.drain({ github: async () => undefined }), { ...none, done: 1 });
  assert.is((await inbox.status('github', 'broken'))?.status, 'done');
});

test('a worker that stops mid-way: the message comes back after the visibility timeout and another worker finishes it; the first one cannot mark it', async () => {
  const { inbox, cfg } = await freshInbox({ visibilitySeconds: 1, maxAttempts: 3 });
  const other = await Inbox.open(cfg);
  await inbox.enqueue({ source: 'github', deliveryId: 'slow', event: 'push', payload: {} });
  // Worker A receives it and runs a handler that does not finish before its claim runs out.
  const [m] = await inbox.queue.receive(1, 1);
  let release!: () => void;
  const stuck = new Promise<void>((r) => (release = r));
  const runs: string[] = [];
  const a = inbox.handleMessage(m!.body, m!.dequeueCount, { github: async () => { runs.push('a'); await stuck; } });
  await waitFor(() => runs.length === 1, { what: 'worker A to start the handler', timeoutMs: 5000 });
  // Still claimed: a worker that gets the message now leaves it.
  assert.equal(await other.drain({ github: async () => { runs.push('b'); } }), none);
  await sleep(1300);
  assert.equal(await other.drain({ github: async () => { runs.push('b'); } }), { ...none, done: 1 });
  release();
  assert.equal((await a).outcome, 'busy', "A's done-mark is refused: B's outcome stands");
  assert.equal(runs, ['a', 'b']);
  assert.equal(await inbox.status('github', 'slow'), { status: 'done', attempts: 2, error: undefined, event: 'push' });
});

test('a message received more times than maxAttempts without finishing (the worker died each time) is poisoned with that reason', async () => {
  const { inbox } = await freshInbox({ visibilitySeconds: 1, maxAttempts: 2 });
  await inbox.enqueue({ source: 'pagerduty', deliveryId: 'p-crash', event: 'incident.triggered', payload: {} });
  // Two receipts that never come back: a worker died before (or while) handling each.
  for (let i = 0; i < 2; i++) {
    const got = await waitFor(async () => (await inbox.queue.receive(1, 1))[0], { what: `receipt ${i + 1}`, timeoutMs: 5000 });
    assert.is(got.dequeueCount, i + 1);
  }
  const result = await waitFor(async () => { const r = await inbox.drain({ pagerduty: async () => undefined }); return r.poisoned ? r : undefined; }, { what: 'the third receipt', timeoutMs: 5000 });
  assert.equal(result, { ...none, poisoned: 1 });
  const st = await inbox.status('pagerduty', 'p-crash');
  assert.equal([st?.status, st?.error], ['poisoned', 'received 3 times without finishing; last error: none recorded']);
});

test('the Functions trigger: acknowledged on success; on failure sent again with the backoff (the original returns); a message that is not a delivery is poisoned', async () => {
  const { inbox } = await freshInbox({ maxAttempts: 2 });
  await inbox.enqueue({ source: 'opsgenie', deliveryId: 'o-1', event: 'Create', payload: { a: 1 } });
  const body = { source: 'opsgenie', deliveryId: 'o-1' };
  let fail = true;
  const handlers = { opsgenie: async () => { if (fail) throw new Error('catalog unavailable'); } };
  const failed = await processQueueMessage(inbox, handlers, body, { dequeueCount: 1 });
  assert.equal(failed, { outcome: 'failed', ack: false, retryInSeconds: 2, error: 'catalog unavailable' });
  // The enqueue's message was never received here (the host holds its own copy): the retry is a
  // second one, hidden for the backoff, then handed out.
  const [first] = await inbox.queue.receive(1, 30);
  assert.equal(first?.body, body);
  const start = Date.now();
  const retry = await waitFor(async () => (await inbox.queue.receive(1, 30))[0], { what: 'the retry message', timeoutMs: 10_000 });
  assert.equal(retry.body, body);
  assert.ok(Date.now() - start >= 1000, 'hidden for the backoff');
  // When even that send fails, the trigger throws and the host hands the message out again.
  await inbox.enqueue({ source: 'opsgenie', deliveryId: 'o-2', event: 'Create', payload: { a: 2 } });
  const broken = { handleMessage: inbox.handleMessage.bind(inbox), queue: { send: async () => { throw new Error('queue unavailable'); } } } as unknown as Parameters<typeof processQueueMessage>[0];
  await processQueueMessage(broken, handlers, { source: 'opsgenie', deliveryId: 'o-2' }, { dequeueCount: 1 }).then(() => assert.unreachable('must throw'), (err) => {
    assert.instance(err, DeliveryNotFinished);
    assert.match((err as Error).message, /failed: catalog unavailable; sending it again failed: queue unavailable/);
  });
  fail = false;
  assert.equal(await processQueueMessage(inbox, handlers, body, { dequeueCount: 2 }), { outcome: 'done', ack: true });
  assert.equal(await processQueueMessage(inbox, handlers, body, { dequeueCount: 1 }), { outcome: 'repeated', ack: true });
  assert.equal(await processQueueMessage(inbox, handlers, 'not json at all', { dequeueCount: 1 }), { outcome: 'poisoned', ack: true });
  const poisoned = (await inbox.poison.peek()) as Array<{ reason: string }>;
  assert.match(poisoned[0]!.reason, /^not a delivery message/);
});

test('a delivery whose message was never sent (the process stopped in between) is sent by the redelivery or by maintain()', async () => {
  const clock = { t: Date.now() };
  const { inbox, storage, queueName } = await freshInbox({ clock });
  // The queue vanishes: enqueue stores the row and fails on the send, as a crash there would.
  const queue = storage.queueService().getQueueClient(queueName);
  await queue.delete();
  for (const id of ['lost-1', 'lost-2']) {
    await inbox.enqueue({ source: 'github', deliveryId: id, event: 'push', payload: { id } }).then(
      () => assert.unreachable('the send must fail'), (err: Error) => assert.match(err.message, /send/));
  }
  await queue.create();
  assert.is((await inbox.status('github', 'lost-1'))?.status, 'pending');
  assert.is(await inbox.queue.approximateCount(), 0);
  // The sender redelivers lost-1 (it got no 202): a duplicate id, but its message goes now.
  assert.equal(await inbox.enqueue({ source: 'github', deliveryId: 'lost-1', event: 'push', payload: { id: 'lost-1' } }), { duplicate: true });
  assert.is(await inbox.queue.approximateCount(), 1);
  // Nobody redelivers lost-2: maintain() re-sends it once its marker is old enough.
  assert.equal(await inbox.maintain(['github']), { resent: 0, expired: 0, deferred: 0 }, 'a young marker may be an enqueue in flight');
  clock.t += 60_000;
  assert.equal(await inbox.maintain(['github']), { resent: 1, expired: 0, deferred: 0 });
  assert.equal(await inbox.maintain(['github']), { resent: 0, expired: 0, deferred: 0 });
  const seen: string[] = [];
  assert.equal(await inbox.drain({ github: async (d) => { seen.push(d.deliveryId); } }), { ...none, done: 2 });
  assert.equal(seen.sort(), ['lost-1', 'lost-2']);
});

test('retention: finished deliveries go with their payload blob after retentionDays; unfinished ones stay; the id is new again afterwards', async () => {
  const clock = { t: T0 };
  const { inbox, storage, cfg } = await freshInbox({ clock, retentionDays: 7, maintainEveryMs: 1e12 });
  const big = { files: Array.from({ length: 20_000 }, (_, i) => `src/module-${i}/index-with-a-long-name.ts`) };
  await inbox.enqueue({ source: 'github', deliveryId: 'old-big', event: 'push', payload: big });
  await inbox.enqueue({ source: 'github', deliveryId: 'old-small', event: 'push', payload: {} });
  let got: unknown;
  assert.equal(await inbox.drain({ github: async (d) => { if (d.deliveryId === 'old-big') got = d.payload; } }), { ...none, done: 2 });
  assert.equal(got, big, 'a large payload goes through a blob');
  await inbox.enqueue({ source: 'github', deliveryId: 'never-drained', event: 'push', payload: {} });
  const blobs = await BlobStore.open(cfg.container!, storage);
  assert.equal(await blobs.list('github/'), ['github/old-big.json']);

  clock.t = T0 + 6 * 86_400_000;
  assert.equal(await inbox.maintain(['github']), { resent: 0, expired: 0, deferred: 0 }, 'within the window');
  assert.equal(await inbox.enqueue({ source: 'github', deliveryId: 'old-small', event: 'push', payload: {} }), { duplicate: true });
  clock.t = T0 + 8 * 86_400_000;
  assert.equal(await inbox.maintain(['github']), { resent: 0, expired: 2, deferred: 1 });
  assert.is(await inbox.status('github', 'old-big'), undefined);
  assert.is(await inbox.status('github', 'old-small'), undefined);
  assert.equal(await blobs.list('github/'), []);
  assert.is((await inbox.status('github', 'never-drained'))?.status, 'pending', 'still queued: kept');
  assert.equal(await inbox.maintain(['github']), { resent: 0, expired: 0, deferred: 0 }, 'its marker moved to today');
  // Past the window the id is a new delivery.
  assert.equal(await inbox.enqueue({ source: 'github', deliveryId: 'old-small', event: 'push', payload: {} }), { duplicate: false });
  assert.equal(await inbox.drain({ github: async () => undefined }), { ...none, done: 2 });
  clock.t = T0 + 16 * 86_400_000;
  assert.equal(await inbox.maintain(['github']), { resent: 0, expired: 2, deferred: 0 }, 'nothing is kept forever');
});

test('a delivery without a handler fails with a clear error', async () => {
  const { inbox } = await freshInbox();
  await inbox.enqueue({ source: 'pagerduty', deliveryId: 'p-1', event: 'incident.triggered', payload: {} });
  assert.equal(await inbox.drain({}), { ...none, failed: 1 });
  assert.match((await inbox.status('pagerduty', 'p-1'))!.error!, /no handler for deliveries from 'pagerduty'/);
});

test('a delivery its handler applied nothing of ends skipped with the reasons; a partly skipped one is done', async () => {
  const { inbox } = await freshInbox();
  await inbox.enqueue({ source: 'azure-devops', deliveryId: 'push-1', event: 'git.push', payload: {} });
  await inbox.enqueue({ source: 'github', deliveryId: 'push-2', event: 'push', payload: {} });
  const result = await inbox.drain({
    'azure-devops': async () => ({ upserted: [], orphaned: [], skipped: ['git.push: not a catalog event'] }),
    github: async () => ({ upserted: ['repository:default/hello'], orphaned: [], skipped: ['docs/catalog.yaml: not a catalog file'] }),
  });
  assert.equal(result, { ...none, done: 2 });
  const skipped = await inbox.status('azure-devops', 'push-1');
  assert.equal([skipped?.status, skipped?.skipped, skipped?.error], ['skipped', ['git.push: not a catalog event'], undefined]);
  const partly = await inbox.status('github', 'push-2');
  assert.equal([partly?.status, partly?.skipped], ['done', ['docs/catalog.yaml: not a catalog file']]);
});

test('pump drains soon after enqueue and stops cleanly', async () => {
  const { inbox } = await freshInbox();
  const seen: string[] = [];
  const pump = inbox.pump({ github: async (d) => { seen.push(d.deliveryId); } }, { intervalMs: 60_000 });
  await inbox.enqueue({ source: 'github', deliveryId: 'auto', event: 'ping', payload: {} });
  await waitFor(() => seen.length > 0, { what: 'the pump to drain the delivery enqueued', timeoutMs: 5000 });
  await pump.stop();
  assert.equal(seen, ['auto']);
});

test.run();

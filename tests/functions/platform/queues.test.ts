// The queue port on Azurite's queue service: base64 JSON messages (as the Functions trigger reads
// them), visibility, hide, delete with a stale pop receipt, and names and sizes refused up front.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { Queue, checkQueueName, decode } from '../../../functions/platform/queues.ts';
import { StorageInputError } from '../../../functions/platform/errors.ts';
import { sleep } from '../../helpers/wait.ts';

const open = async () => Queue.open(`q${randomBytes(4).toString('hex')}`, storageConfig({ connectionString: (await azurite()).connectionString }));

test('a message is hidden while received, comes back after its visibility timeout, and goes when deleted', async () => {
  const q = await open();
  await q.send({ source: 'github', deliveryId: 'x' });
  const [m] = await q.receive(32, 1);
  assert.equal([m!.body, m!.dequeueCount], [{ source: 'github', deliveryId: 'x' }, 1]);
  assert.equal(await q.receive(32, 1), [], 'hidden while received');
  await sleep(1200);
  const [again] = await q.receive(32, 30);
  assert.is(again!.dequeueCount, 2);
  assert.is(await q.delete(m!), false, 'the first pop receipt is stale');
  assert.is(await q.hide(again!, 0), true);
  const [third] = await q.receive(32, 30);
  assert.is(third!.dequeueCount, 3, 'hide(0) hands it out again at once');
  assert.is(await q.delete(third!), true);
  assert.is(await q.approximateCount(), 0);
});

test('bodies are base64 JSON as the Functions host decodes them; other text comes back as it is', () => {
  assert.equal(decode(Buffer.from('{"a":1}').toString('base64')), { a: 1 });
  assert.is(decode('plain text, not base64!'), 'plain text, not base64!');
});

test('bad queue names and oversized messages are refused before any request', async () => {
  for (const bad of ['ab', 'Upper', 'two--hyphens', '-start', 'end-', 'a'.repeat(64)]) {
    assert.throws(() => checkQueueName(bad), (e: Error) => e instanceof StorageInputError && e.message.includes(`'${bad}'`));
  }
  checkQueueName('webhooks-poison');
  const q = await open();
  await q.send({ text: 'x'.repeat(60_000) }).then(() => assert.unreachable(), (e: Error) => {
    assert.instance(e, StorageInputError);
    assert.match(e.message, /at most 65536/);
  });
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig, type StorageConfig } from '../../../functions/platform/storage-config.ts';
import { BlobLease } from '../../../functions/platform/leases.ts';
import { StorageInputError } from '../../../functions/platform/errors.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';

let cfg: StorageConfig;
const run = Math.random().toString(36).slice(2, 8);
const container = `leases-${run}`;
const lease = (blob: string, holderId: string, extra: { durationSeconds?: number } = {}) =>
  new BlobLease({ container, blob, holderId, cfg, durationSeconds: 15, ...extra });


test.before(async () => {
  cfg = storageConfig({ connectionString: (await azurite()).connectionString });
});

test('only one of several holders racing for a lease gets it, and holder() names it', async () => {
  const contenders = Array.from({ length: 6 }, (_, i) => lease('stack/corp', `host-${i}`));
  const results = await Promise.all(contenders.map((l) => l.acquire()));
  assert.is(results.filter(Boolean).length, 1);
  const winner = contenders[results.indexOf(true)];
  const h = await contenders[0].holder();
  assert.is(h.leased, true);
  assert.is(h.holderId, winner.holderId);
  assert.ok(h.since && !Number.isNaN(Date.parse(h.since)));
  // The winner keeps it: it can renew, the others cannot, and acquiring again is idempotent for it.
  assert.ok(await winner.renew());
  for (const l of contenders) if (l !== winner) assert.not.ok(await l.renew());
  assert.ok(await winner.acquire());
  // A second object with the same holder id (another run in the same process) is not the holder...
  const sameProcess = lease('stack/corp', winner.holderId);
  assert.not.ok(await sameProcess.acquire());
  assert.not.ok(await sameProcess.renew());
  // ...unless it resumes with the holder's lease id.
  const resumed = new BlobLease({ container, blob: 'stack/corp', holderId: winner.holderId, leaseId: winner.leaseId, cfg, durationSeconds: 15 });
  assert.ok(await resumed.renew());
  await winner.release();
});

test('release frees the lease for the next holder; only the holder can release', async () => {
  const a = lease('stack/release', 'a');
  const b = lease('stack/release', 'b');
  assert.ok(await a.acquire());
  assert.is(await b.release(), false);
  assert.equal((await a.holder()).holderId, 'a');
  assert.not.ok(await b.acquire());
  assert.is(await a.release(), true);
  assert.equal(await a.holder(), { leased: false });
  assert.ok(await b.acquire());
  assert.equal((await a.holder()).holderId, 'b');
  assert.not.ok(await a.renew());
  await b.release();
});

test('break ends the current lease so another holder can take over', async () => {
  const stuck = lease('stack/break', 'stuck');
  const rescuer = lease('stack/break', 'rescuer');
  assert.ok(await stuck.acquire());
  assert.not.ok(await rescuer.acquire());
  await rescuer.break();
  assert.equal(await rescuer.holder(), { leased: false });
  assert.ok(await rescuer.acquire());
  assert.not.ok(await stuck.renew(), 'the old holder must learn it lost the lease');
  assert.equal((await stuck.holder()).holderId, 'rescuer');
  // Breaking a free lease is harmless.
  await rescuer.release();
  await rescuer.break();
  assert.equal(await rescuer.holder(), { leased: false });
});

test('an unrenewed lease expires and is taken over; keepAlive holds one past its duration', async () => {
  const dead = lease('stack/expiry', 'dead-process');
  const successor = lease('stack/expiry', 'successor');
  const alive = lease('stack/kept', 'alive-process');
  const challenger = lease('stack/kept', 'challenger');
  assert.ok(await dead.acquire());
  assert.ok(await alive.acquire());
  let aliveLost = false;
  const keeper = alive.keepAlive({ onLost: () => (aliveLost = true) });
  assert.not.ok(await successor.acquire());
  // Wait until the unrenewed lease has expired (15 s), polling rather than timing.
  await waitFor(() => successor.acquire(), { what: 'the unrenewed 15 s lease to expire and be taken over', timeoutMs: 45_000, intervalMs: 1000 });
  assert.equal((await successor.holder()).holderId, 'successor');
  assert.not.ok(await dead.renew());
  // The same time has passed for the kept lease, which must still be held.
  assert.not.ok(await challenger.acquire());
  assert.equal((await challenger.holder()).holderId, 'alive-process');
  assert.not.ok(keeper.lost);
  assert.not.ok(aliveLost);
  await keeper.stop();
  assert.ok(await alive.release());
  await successor.release();
});

test('keepAlive reports a lost lease once and stops renewing', async () => {
  const holder = lease('stack/lost', 'holder');
  const thief = lease('stack/lost', 'thief');
  assert.ok(await holder.acquire());
  let calls = 0;
  let resolveLost!: (e: Error) => void;
  const lostReason = new Promise<Error>((r) => (resolveLost = r));
  const keeper = holder.keepAlive({ intervalMs: 100, onLost: (e) => { calls++; resolveLost(e); } });
  await sleep(350); // a few renewals happen while it still holds the lease
  assert.not.ok(keeper.lost);
  await thief.break();
  assert.ok(await thief.acquire());
  // keepAlive's timer never keeps a process alive, so poll while waiting for it.
  await waitFor(() => keeper.lost, { what: 'keepAlive to notice the lease was taken', timeoutMs: 10_000 });
  const reason = await lostReason;
  assert.match(reason.message, /stack\/lost/);
  assert.match(reason.message, /'holder' no longer holds it/);
  assert.ok(keeper.lost);
  await sleep(300);
  assert.is(calls, 1);
  await keeper.stop();
  assert.equal((await thief.holder()).holderId, 'thief', 'the lost holder must not take it back');
  await thief.release();
});

test('holder ids with any characters are kept exactly', async () => {
  const id = 'runner ünï/42 #7 🙂';
  const l = lease('stack/odd-id', id);
  assert.ok(await l.acquire());
  assert.is((await l.holder()).holderId, id);
  await l.release();
});

test('a lease blob deleted behind our back is recreated on acquire', async () => {
  const l = lease('stack/deleted', 'h');
  assert.ok(await l.acquire());
  await l.release();
  await cfg.blobService().getContainerClient(container).getBlobClient('stack/deleted').delete();
  assert.equal(await l.holder(), { leased: false });
  assert.ok(await l.acquire());
  assert.equal((await l.holder()).holderId, 'h');
  await l.release();
});

test('holder() of a lease never taken reports it free', async () => {
  assert.equal(await lease('stack/never', 'x').holder(), { leased: false });
});

test('bad options are refused with a message naming the lease', () => {
  assert.throws(() => lease('stack/x', 'h', { durationSeconds: 5 }), (e: Error) => e instanceof StorageInputError && /stack\/x.*durationSeconds.*15 to 60/.test(e.message));
  assert.throws(() => lease('stack/x', '  '), (e: Error) => e instanceof StorageInputError && /holderId/.test(e.message));
  assert.throws(() => lease('', 'h'), (e: Error) => e instanceof StorageInputError && /blob name/.test(e.message));
  assert.throws(() => new BlobLease({ container, blob: 'stack/x', holderId: 'h', leaseId: 'abc', cfg }), (e: Error) => e instanceof StorageInputError && /leaseId 'abc' is not a GUID/.test(e.message));
});

test.run();

// Pulumi's DIY lock files in Azurite: which are stale, and that only the lease holder removes them.
// (tests/stacks/engine/engine.test.ts makes a real one by killing a running update.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { BlobStore } from '../../../functions/platform/blobs.ts';
import { BlobLease } from '../../../functions/platform/leases.ts';
import { spawn } from 'node:child_process';
import { clearStaleLocks, listStackLocks, lockFolder, processIsAlive, staleness } from '../../../functions/platform/pulumi-locks.ts';

const now = new Date('2026-11-25T10:00:00Z');
const lock = (over: object = {}) => ({ pid: 4242, username: 'root', hostname: 'other-host', timestamp: '2026-11-25T09:59:00Z', ...over });

test('a killed process its parent has not reaped yet (a zombie) is not running', async () => {
  // `true` exits at once; its parent became `sleep`, which never reaps it.
  const parent = spawn('sh', ['-c', 'true & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d) => resolve(String(d).trim()))));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 0); // it still exists as a process table entry...
    assert.is(processIsAlive(pid), false); // ...but it is dead
    assert.is(processIsAlive(parent.pid!), true);
  } finally {
    parent.kill('SIGKILL');
  }
});

test('the lock folder is where the azblob backend writes it', () => {
  assert.is(lockFolder({ project: 'nexus', stack: 'alz' }), '.pulumi/locks/organization/nexus/alz/');
  assert.is(lockFolder({ project: 'nexus', stack: 'alz', prefix: '/tenants/a/' }), 'tenants/a/.pulumi/locks/organization/nexus/alz/');
});

test('on this machine a lock is stale exactly when its pid is not running', () => {
  const here = { host: 'me', now };
  assert.equal(staleness(lock({ hostname: 'me' }), { ...here, isAlive: () => true }).stale, false);
  const s = staleness(lock({ hostname: 'me' }), { ...here, isAlive: () => false });
  assert.equal(s, { stale: true, reason: 'pid 4242 is not running on me' });
  // The real check: this process is alive, a pid far beyond the kernel's limit is not.
  assert.equal(staleness(lock({ hostname: hostname(), pid: process.pid })).stale, false);
  assert.equal(staleness(lock({ hostname: hostname(), pid: 2 ** 30 })).stale, true);
});

test('from another machine a lock is stale only after the limit', () => {
  const o = { host: 'me', now, otherHostStaleAfterSeconds: 600 };
  assert.equal(staleness(lock({ timestamp: '2026-11-25T09:55:00Z' }), o).stale, false);
  assert.equal(staleness(lock({ timestamp: '2026-11-25T09:45:00Z' }), o), { stale: true, reason: 'taken on other-host 900s ago, more than 600s' });
  assert.equal(staleness(lock({ timestamp: 'yesterday' }), o).stale, true);
});

test('only the lease holder clears, and only the stale locks', async () => {
  const az = await azurite();
  const cfg = storageConfig({ connectionString: az.connectionString });
  const stack = `locks-${randomBytes(3).toString('hex')}`;
  const store = await BlobStore.open('pulumi-state', cfg);
  const dir = lockFolder({ project: 'nexus', stack });
  await store.putJson(`${dir}dead.json`, lock({ hostname: hostname(), pid: 2 ** 30 }));
  await store.putJson(`${dir}alive.json`, lock({ hostname: hostname(), pid: process.pid }));
  const loc = { project: 'nexus', stack, cfg };
  assert.equal((await listStackLocks(loc)).map((l) => l.key).sort(), [`${dir}alive.json`, `${dir}dead.json`]);

  const holder = new BlobLease({ blob: stack, holderId: 'a', cfg });
  const other = new BlobLease({ blob: stack, holderId: 'b', cfg });
  assert.ok(await holder.acquire());

  const refused = await clearStaleLocks(loc, other);
  assert.equal(refused.cleared, []);
  assert.is(refused.kept.length, 2);
  assert.match(refused.kept[0].reason, /'b' does not hold the lease/);

  const done = await clearStaleLocks(loc, holder);
  assert.equal(done.cleared.map((l) => l.key), [`${dir}dead.json`]);
  assert.equal((await listStackLocks(loc)).map((l) => l.key), [`${dir}alive.json`]);
  await holder.release();
});

test.run();

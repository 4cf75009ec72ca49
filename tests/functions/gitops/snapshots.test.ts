// The commit snapshot cache against a local Git repository served as a Git host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotCache } from '../../../functions/gitops/snapshots.ts';
import { GitHostUnavailableError, GitRefNotFoundError } from '../../../functions/platform/git-host/types.ts';
import { LocalGitHost, LocalGitRepo } from '../../helpers/local-git-host.ts';
import { rejection } from '../../helpers/rejection.ts';

const KB = 1024;

/** Three commits of a repository whose landing zones are under lz/ (about 2 KB each). */
async function fixture() {
  const repo = await LocalGitRepo.create();
  const pad = (n: number) => 'x'.repeat(n);
  repo.write({ 'README.md': 'root readme\n', 'lz/a.yaml': `a: 1\n# ${pad(1000)}\n`, 'lz/sub/b.yaml': `b: 1\n# ${pad(1000)}\n` });
  const c1 = await repo.commit('first');
  repo.write({ 'lz/a.yaml': `a: 2\n# ${pad(1000)}\n` });
  const c2 = await repo.commit('second');
  repo.write({ 'lz/a.yaml': `a: 3\n# ${pad(1000)}\n` });
  const c3 = await repo.commit('third');
  return { repo, host: new LocalGitHost(repo.bare), commits: [c1, c2, c3] as const, dir: mkdtempSync(join(tmpdir(), 'nexus-snapshots-')) };
}

const leftovers = (cache: SnapshotCache) => readdirSync(cache.root).filter((n) => n.startsWith('.'));

test('concurrent callers share one download; only the configured sub-folder, files complete', async () => {
  const { host, commits: [c1], dir } = await fixture();
  let open!: () => void;
  host.gate = new Promise((r) => (open = r));
  const cache = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  const pending = Array.from({ length: 5 }, () => cache.lease(c1));
  await new Promise((r) => setTimeout(r, 50));
  open();
  const leases = await Promise.all(pending);
  assert.is(host.downloads.get(c1), 1);
  assert.ok(leases.every((l) => l.dir === leases[0]!.dir));
  assert.equal(readdirSync(leases[0]!.dir).sort(), ['a.yaml', 'sub']);
  assert.match(readFileSync(join(leases[0]!.dir, 'a.yaml'), 'utf8'), /^a: 1\n/);
  assert.ok(!existsSync(join(leases[0]!.dir, 'README.md')), 'outside the sub-folder');
  leases.forEach((l) => l.release());
  // Later calls reuse the folder.
  assert.is(await cache.use(c1.toUpperCase(), (d) => d), leases[0]!.dir);
  assert.is(host.downloads.get(c1), 1);
  assert.equal(leftovers(cache), []);
});

test('over the bound, the least recently used snapshot nobody holds is evicted', async () => {
  const { host, commits: [c1, c2, c3], dir } = await fixture();
  // Each snapshot is a little over 2 KB: two fit, three do not.
  const cache = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 5 * KB, maxSnapshotBytes: 50 * KB });
  const d1 = await cache.use(c1, (d) => d);
  const held = await cache.lease(c2);
  await cache.use(c1, (d) => d); // c1 now more recently used than c2, but c2 is held
  const d3 = await cache.use(c3, (d) => d);
  assert.ok(existsSync(held.dir), 'a held snapshot is never evicted');
  assert.ok(!existsSync(d1), 'c1 was the least recently used one not held');
  assert.ok(existsSync(d3));
  assert.equal(cache.commits(), [c2, c3]);
  assert.ok(cache.bytes <= 5 * KB);
  held.release();
  // Releasing alone does not evict (the total fits); the next snapshot pushes out c2, now the oldest.
  await cache.use(c1, (d) => d);
  assert.equal(cache.commits(), [c3, c1]);
  assert.ok(!existsSync(held.dir));
  assert.is(host.downloads.get(c1), 2, 'evicted, so downloaded again');
  assert.equal(leftovers(cache), []);
});

test('a download that fails half-way leaves nothing, and the next call downloads again', async () => {
  const { host, commits: [c1], dir } = await fixture();
  const cache = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  host.failNextDownloadAfter = 1;
  const both = await Promise.allSettled([cache.lease(c1), cache.lease(c1)]);
  assert.ok(both.every((r) => r.status === 'rejected' && r.reason instanceof GitHostUnavailableError));
  assert.is(host.downloads.get(c1), 1);
  assert.equal(readdirSync(cache.root), [], 'no partial folder, no temporary one');
  assert.equal(cache.commits(), []);
  assert.is(cache.bytes, 0);
  const lease = await cache.lease(c1);
  assert.is(host.downloads.get(c1), 2);
  assert.equal(readdirSync(lease.dir).sort(), ['a.yaml', 'sub']);
  lease.release();
});

test('an archive over the snapshot limit is refused and leaves nothing', async () => {
  const { host, commits: [c1], dir } = await fixture();
  const cache = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 1 * KB });
  assert.match((await rejection(cache.lease(c1))).message, /more than 1024/);
  assert.equal(readdirSync(cache.root), []);
});

test('unknown and malformed commit ids: GitRefNotFoundError, nothing on disk', async () => {
  const { host, dir } = await fixture();
  const cache = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  assert.instance(await rejection(cache.lease('0123456789abcdef0123456789abcdef01234567')), GitRefNotFoundError);
  for (const bad of ['main', 'abc123', '../../etc', `${'a'.repeat(40)}/..`, '--all']) {
    const e = await rejection(cache.lease(bad));
    assert.instance(e, GitRefNotFoundError, bad);
    assert.match(e.message, /not a commit id/, bad);
  }
  assert.equal(readdirSync(cache.root), []);
  assert.is(host.downloads.size, 1, 'malformed ids never reach the host');
});

test('after a restart the snapshots on disk are reused; unfinished ones are removed', async () => {
  const { host, commits: [c1, c2], dir } = await fixture();
  const first = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  const d1 = await first.use(c1, (d) => d);
  await first.use(c2, (d) => d);
  // What a crash leaves: a download in progress, and a commit folder without its marker.
  mkdirSync(join(first.root, `.tmp-${c1}-dead`, 'tree'), { recursive: true });
  const unmarked = join(first.root, 'f'.repeat(40));
  mkdirSync(join(unmarked, 'tree'), { recursive: true });
  writeFileSync(join(unmarked, 'tree', 'a.yaml'), 'half');

  const again = new LocalGitHost(host.bare);
  const second = new SnapshotCache({ host: again, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  assert.is(await second.use(c1, (d) => d), d1);
  assert.is(again.downloads.size, 0, 'nothing downloaded');
  assert.equal(second.commits().sort(), [c1, c2].sort());
  assert.equal(readdirSync(second.root).sort(), [c1, c2].sort());
  assert.ok(second.bytes > 3 * KB, 'sizes from the markers');

  // Another repository or sub-folder in the same cache folder does not see these.
  const other = new SnapshotCache({ host: again, path: '', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  const whole = await other.use(c1, (d) => readdirSync(d).sort());
  assert.equal(whole, ['README.md', 'lz']);
  assert.is(again.downloads.get(c1), 1);
});

test('a snapshot that lost files on disk is not reused after a restart; a stray folder does not block one', async () => {
  const { host, commits: [c1, c2], dir } = await fixture();
  const first = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  const d1 = await first.use(c1, (d) => d);
  rmSync(join(d1, 'sub', 'b.yaml')); // what a temp cleaner may do
  const second = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  assert.equal(await second.use(c1, (d) => readdirSync(join(d, 'sub'))), ['b.yaml']);
  assert.is(host.downloads.get(c1), 2);
  // A folder named like a commit but without the marker, appearing after the cache opened.
  mkdirSync(join(second.root, c2, 'tree'), { recursive: true });
  assert.equal(await second.use(c2, (d) => readdirSync(d).sort()), ['a.yaml', 'sub']);
  assert.equal(leftovers(second), []);
});

test('a restart with a smaller bound evicts the least recently used snapshots first', async () => {
  const { host, commits: [c1, c2, c3], dir } = await fixture();
  const first = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 100 * KB, maxSnapshotBytes: 50 * KB });
  for (const c of [c2, c1, c3]) {
    await first.use(c, (d) => d);
    await new Promise((r) => setTimeout(r, 20)); // distinct folder times
  }
  const second = new SnapshotCache({ host, path: 'lz', dir, maxBytes: 5 * KB, maxSnapshotBytes: 50 * KB });
  await second.use(c3, (d) => d);
  assert.equal(second.commits(), [c1, c3]);
  assert.ok(!existsSync(join(second.root, c2)));
});

test.run();

// Webhook deliveries while nobody listens yet (`npm run up` starts the stand-in before Nexus): a
// push made then is retried with back-off and arrives, signed, once the listener is up; a
// listener that never comes leaves the delivery failed with its error, and the push itself stands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitHubStandIn } from '../../../scripts/sandbox/github/server.ts';
import { runGit, startReceiver } from './github-fixture.ts';
import { waitFor } from '../../helpers/wait.ts';

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function pushOnce(gitUrl: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'gh-standin-delivery-'));
  await runGit(work, ['clone', '--quiet', gitUrl, 'lz']);
  const dir = join(work, 'lz');
  writeFileSync(join(dir, 'late.txt'), 'late\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'while Nexus starts']);
  await runGit(dir, ['push', '--quiet', 'origin', 'main']);
  return (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
}

async function seeded(url: string, secret: string, attempts: number) {
  const gh = await startGitHubStandIn({ dataDir: mkdtempSync(join(tmpdir(), 'gh-standin-delivery-data-')), webhook: { url, secret, attempts, backoffMs: 100 } });
  const seed = mkdtempSync(join(tmpdir(), 'gh-standin-delivery-seed-'));
  writeFileSync(join(seed, 'README.md'), 'seed\n');
  await gh.seed('contoso/landing-zones', seed);
  return gh;
}

test('a push made before the listener is up arrives once it is', async () => {
  const port = await freePort();
  const secret = 'late-secret';
  const gh = await seeded(`http://127.0.0.1:${port}/webhooks/github`, secret, 10);
  try {
    const sha = await pushOnce(gh.gitUrl('contoso', 'landing-zones'));
    await waitFor(() => gh.deliveries.find((d) => d.attempts >= 2), { what: 'a failed first attempt', timeoutMs: 10_000 });
    assert.is(gh.deliveries[0].status, 'pending');
    assert.ok(gh.deliveries[0].error, 'the refused connection is recorded');
    const receiver = await startReceiver(secret, port);
    try {
      const d = await receiver.next((r) => r.event === 'push', 'the late push webhook');
      assert.ok(d.verified);
      assert.is(d.payload.after, sha);
      await gh.idle();
      assert.is(gh.deliveries[0].status, 'delivered');
      assert.is(gh.deliveries[0].responseStatus, 202);
    } finally {
      await receiver.close();
    }
  } finally {
    await gh.stop();
  }
});

test('no listener at all: the delivery ends failed after its attempts; the push stands', async () => {
  const port = await freePort();
  const gh = await seeded(`http://127.0.0.1:${port}/webhooks/github`, 's', 3);
  try {
    const sha = await pushOnce(gh.gitUrl('contoso', 'landing-zones'));
    await gh.idle();
    assert.equal([gh.deliveries[0].status, gh.deliveries[0].attempts], ['failed', 3]);
    const ls = await runGit(tmpdir(), ['ls-remote', gh.gitUrl('contoso', 'landing-zones'), 'refs/heads/main']);
    assert.ok(ls.startsWith(sha));
  } finally {
    await gh.stop();
  }
});

test.run();

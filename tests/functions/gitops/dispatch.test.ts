// GitOps's inbox entry: a real GitHub push payload of the landing-zone repository becomes wants;
// while the host cannot be read the push is kept (recorded HOST_UNAVAILABLE, the delivery done)
// and the next kick turns it into wants, however long the outage lasted;
// another repository is recorded and ignored.
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archetypesDir, compileTenant, tenantOptionsFor } from '../../../stacks/compile/index.ts';
import { GitOpsDriver } from '../../../functions/gitops/driver.ts';
import { GitOps } from '../../../functions/gitops/gitops.ts';
import { RepoDesiredSource } from '../../../functions/gitops/repo-source.ts';
import { SnapshotCache } from '../../../functions/gitops/snapshots.ts';
import { GitOpsStore } from '../../../functions/gitops/store.ts';
import { GitHostUnavailableError, type SnapshotLimits } from '../../../functions/platform/git-host/types.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import type { ReconcileRequest } from '../../../functions/reconcile/loop.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import { openStores } from '../../../functions/reconcile/store/index.ts';
import { azurite } from '../../helpers/azurite.ts';
import { LocalGitHost, LocalGitRepo } from '../../helpers/local-git-host.ts';
import { uniqueName } from '../api/harness.ts';

const require = createRequire(import.meta.url);
const catalog = require('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: Record<string, any>[] }[];
const example = structuredClone(catalog.find((e) => e.name === 'push')!.examples.find((p) => p.ref === 'refs/heads/master' && !p.deleted)!);

/** The host is down while `down` is set (a 503 from GitHub, as the adapter reports it). */
class FlakyHost extends LocalGitHost {
  down = false;
  override async download(commit: string, path: string, dir: string, limits: SnapshotLimits) {
    if (this.down) throw new GitHostUnavailableError('GET tarball: 503 Service Unavailable', { retryAfterSeconds: 30 });
    return super.download(commit, path, dir, limits);
  }
  override async compare(base: string, head: string, limit?: number) {
    if (this.down) throw new GitHostUnavailableError('GET compare: 503 Service Unavailable');
    return super.compare(base, head, limit);
  }
}

function payload(before: string, after: string, repo = 'contoso/landing-zones') {
  const p = structuredClone(example);
  p.ref = 'refs/heads/main';
  p.before = before;
  p.after = after;
  p.forced = false;
  p.repository.full_name = repo;
  p.repository.name = repo.split('/')[1];
  return p;
}

test('a push kept through a host outage becomes wants on the next kick', async () => {
  const az = await azurite();
  const cfg = storageConfig({ connectionString: az.connectionString });
  const stores = await openStores(cfg);
  const store = await GitOpsStore.open(cfg, uniqueName('gitops'));
  const repo = await LocalGitRepo.create();
  repo.copy(archetypesDir());
  const seed = await repo.commit('seed');
  const host = new FlakyHost(repo.bare);
  const snapshots = new SnapshotCache({ host, path: '', dir: mkdtempSync(join(tmpdir(), 'nexus-dispatch-')), maxBytes: 256 << 20, maxSnapshotBytes: 32 << 20 });
  const source = new RepoDesiredSource({ host, snapshots, branch: 'main', path: '', compile: async (dir) => compileTenant(tenantOptionsFor(dir, { ...process.env, NEXUS_ROOT_MG: 'tenant-root' })) });
  const ran: ReconcileRequest[] = [];
  const logger = createLogger({ level: 'silent' });
  // Stacks named for this test only: the runs table is shared with other suites of this process.
  const driver = new GitOpsDriver({ store, logger, concurrency: 2, reconcile: async (req) => { ran.push(req); return { status: 'done', run: { stack: req.stack, decision: 'applied', reasons: [] as string[] } as RunRecord }; } });
  const gitops = new GitOps({
    repoId: 'github:contoso/landing-zones', branch: 'main',
    push: { source, runs: stores.runs, audit: stores.audit }, store, driver, now: () => new Date(), logger,
  });

  host.down = true;
  const first = await gitops.handle('github', { deliveryId: 'd-outage', event: 'push', payload: payload('0'.repeat(40), seed) });
  assert.equal([first?.outcome, first?.reason], ['queued', 'HOST_UNAVAILABLE']);
  assert.is((await store.listPendingPushes()).length, 1, 'kept');
  assert.equal(await store.listWants(), []);
  await gitops.kick();
  assert.is((await store.listPendingPushes()).length, 1, 'still down: still kept');

  host.down = false;
  await gitops.kick();
  await driver.idle();
  assert.equal(await store.listPendingPushes(), []);
  const stacks = new Set(ran.filter((r) => r.commit === seed).map((r) => r.stack));
  assert.ok(stacks.size > 0, 'the stacks of the push ran');
  assert.ok(ran.every((r) => r.trigger === 'push' && r.requestedBy === 'Codertocat'));
  const events = await store.recent(5);
  assert.ok(events.some((e) => e.deliveryId === 'd-outage' && e.outcome === 'queued' && !e.reason), JSON.stringify(events));

  // Another repository: recorded, ignored.
  const other = await gitops.handle('github', { deliveryId: 'd-other', event: 'push', payload: payload('0'.repeat(40), seed, 'contoso/other') });
  assert.equal([other?.outcome, other?.reason], ['ignored', 'UNKNOWN_REPOSITORY']);
  // Not a GitOps event: the catalog's alone.
  assert.is(await gitops.handle('github', { deliveryId: 'd-star', event: 'star', payload: {} }), undefined);
});

test.run();

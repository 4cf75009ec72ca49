// /api/v1/me lists the signed-in user's recent reconcile runs: runs of the stacks their teams own
// and runs they triggered, newest first, at most 20. Real app, real catalog and run store in Azurite,
// tokens from the local issuer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, team, type Harness } from './harness.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { RunStore, newRunId } from '../../../functions/reconcile/store/runs.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import { recentRunsFrom } from '../../../functions/api/recent-runs.ts';
import { importPulumiState } from '../../../functions/catalog/ingestion/pulumi-state.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

let h: Harness;
let runs: RunStore;
const tag = Date.now().toString(36);
// Stack names as the reconciler spells them; Pulumi ingestion normalises the entity name.
const OURS = `Corp_LZ_${tag}`;
const THEIRS = `online-lz-${tag}`;
const OTHER = `sandbox-lz-${tag}`;

test.before(async () => {
  h = await harness();
  runs = await RunStore.open(storageConfig(loadConfig(h.env).storage));
  h.deps.recentRuns = recentRunsFrom(async () => runs);
  const admin = await h.token('admin', ['Admin']);
  for (const t of [team(`platform-${tag}`), team(`online-${tag}`)]) {
    assert.is((await h.call('PUT', `/api/v1/entities/team/default/${t.metadata.name}`, { token: admin, body: t })).status, 201);
  }
  // The stacks arrive from Pulumi state (as in production), then their owners from catalog-info.
  for (const [stack, owner] of [[OURS, `platform-${tag}`], [THEIRS, `online-${tag}`], [OTHER, `online-${tag}`]] as const) {
    await importPulumiState(h.catalog, { stack, state: { deployment: { resources: [] } } });
    const key = (await h.catalog.list({ kind: 'Stack' })).items.map((e) => e as { metadata: { name: string; title?: string } }).find((e) => e.metadata.title === stack)!;
    await h.catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Stack', metadata: { name: key.metadata.name, title: stack }, spec: { owner } }, { name: 'catalog-file' }, { mode: 'merge' });
  }
});

function run(stack: string, at: number, p: Partial<RunRecord> = {}): RunRecord {
  return {
    id: newRunId(at), stack, trigger: 'timer', dryRun: false, status: 'done', decision: 'no-change', reasons: [], gates: [],
    counts: { create: 0, update: 0, replace: 0, delete: 0, same: 3 }, timings: { startedAt: new Date(at).toISOString() }, holderId: 'h', ...p,
  };
}

test('me: runs of stacks my teams own and runs I triggered, newest first, at most 20', async () => {
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  const ours = Array.from({ length: 25 }, (_, i) => run(OURS, t0 + i * 60_000));
  const mine = run(THEIRS, t0 + 30 * 60_000, { trigger: 'manual', requestedBy: 'alice@contoso.example' });
  const notMine = [run(THEIRS, t0 + 31 * 60_000, { trigger: 'manual', requestedBy: 'bob@contoso.example' }), run(OTHER, t0 + 32 * 60_000)];
  for (const r of [...ours, mine, ...notMine]) await runs.save(r);

  // Team membership from the token's groups (local tokens carry team names; Entra ones group ids).
  const sign = (user: string, group: string) => h.deps.localIssuer!.sign({ user, email: `${user}@contoso.example`, roles: ['Developer'], groups: [group] });
  const res = await h.call('GET', '/api/v1/me', { token: await sign('alice', `platform-${tag}`) });
  assert.is(res.status, 200, await res.clone().text());
  const me = await res.json() as { teams: Array<{ metadata: { name: string } }>; recentRuns: RunRecord[] };
  assert.ok(me.teams.some((t) => t.metadata.name === `platform-${tag}`), 'alice is a member of the platform team');
  const ids = me.recentRuns.map((r) => r.id);
  // Newest first: the run alice triggered on another team's stack, then her team's newest 19.
  const want = [mine, ...ours.slice().reverse()].slice(0, 20).map((r) => r.id);
  assert.equal(ids, want);
  assert.ok(me.recentRuns.every((r) => r.stack === OURS || r.requestedBy === 'alice@contoso.example'));
  assert.ok(!ids.some((id) => notMine.some((r) => r.id === id)), 'runs of stacks she neither owns nor triggered are not shown');

  // bob: the stacks of his team (THEIRS and OTHER), which includes the run alice triggered there.
  const bob = await sign('bob', `online-${tag}`);
  const bobs = (await (await h.call('GET', '/api/v1/me', { token: bob })).json() as { recentRuns: RunRecord[] }).recentRuns;
  assert.equal(bobs.map((r) => r.id), [notMine[1]!, notMine[0]!, mine].map((r) => r.id));

  // Someone in no team who triggered nothing sees no runs; without a token, no dashboard at all.
  const carol = await h.token('carol', ['Developer']);
  assert.equal((await (await h.call('GET', '/api/v1/me', { token: carol })).json() as { recentRuns: unknown[] }).recentRuns, []);
  assert.is((await h.call('GET', '/api/v1/me')).status, 401);
});

test.run();

// The timer's schedule: a default interval, refined per stack or per domain (a management group
// subtree); a stack is due when its interval has passed since its last run (from the runs table).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ScheduleConfigError, dueStacks, parseSchedule, stackIntervals } from '../../../functions/reconcile/schedule.ts';
import { duePass } from '../../../functions/reconcile/scheduler.ts';
import type { Reconciler, ReconcileResult } from '../../../functions/reconcile/loop.ts';
import { openStores } from '../../../functions/reconcile/store/index.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { azurite } from '../../helpers/azurite.ts';
import { mergeStates, smallState } from './state-fixture.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

// platform (under the root) > identity; landing (under the root) > corp. Names are unique per run.
const sfx = Date.now().toString(36);
const [platform, identity, landing, corp] = ['platform', 'identity', 'landing', 'corp'].map((n) => `sc${n}${sfx}`);
const state = mergeStates([
  smallState({ tenantRoot: 'root', name: platform, assignments: 0 }),
  smallState({ tenantRoot: 'root', name: identity, assignments: 0, parent: platform }),
  smallState({ tenantRoot: 'root', name: landing, assignments: 0 }),
  smallState({ tenantRoot: 'root', name: corp, assignments: 0, parent: landing }),
]);

test('entries parse; mistakes name the variable and the entry', () => {
  assert.equal(parseSchedule(' stack:corp*=5, domain:platform=30 '), [
    { match: 'stack', pattern: 'corp*', minutes: 5 }, { match: 'domain', pattern: 'platform', minutes: 30 },
  ]);
  assert.equal(parseSchedule(undefined), []);
  assert.throws(() => parseSchedule('corp=5'), (e: Error) => e instanceof ScheduleConfigError && /NEXUS_RECONCILE_SCHEDULE: 'corp=5' is not stack:/.test(e.message));
  assert.throws(() => parseSchedule('stack:corp=soon'), /NEXUS_RECONCILE_SCHEDULE: stack:corp must be a positive number of minutes, got 'soon'/);
  assert.throws(() => loadConfig({ NEXUS_RECONCILE_INTERVAL_MINUTES: '0' }), /NEXUS_RECONCILE_INTERVAL_MINUTES: must be a positive number of minutes/);
  assert.is(loadConfig({}).reconcile.intervalMinutes, 10);
});

test('per stack beats per domain when listed first; a domain covers the groups below it', () => {
  const iv = stackIntervals(state, parseSchedule(`stack:${corp}=5,domain:${platform}=30`), 10);
  assert.equal(Object.fromEntries(iv), { [platform]: 30, [identity]: 30, [landing]: 10, [corp]: 5 });
  const byDomain = stackIntervals(state, parseSchedule(`domain:${landing}=60,stack:${corp}=5`), 10);
  assert.is(byDomain.get(corp), 60, 'the first matching entry wins');
});

test('due: never run, or the interval passed (less the slack)', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  const iv = new Map([['a', 10], ['b', 10], ['c', 30], ['d', 10]]);
  const last = new Map([['a', '2026-01-01T11:49:00Z'], ['b', '2026-01-01T11:55:00Z'], ['c', '2026-01-01T11:45:00Z'], ['d', undefined]]);
  assert.equal(dueStacks(iv, last, now), ['a', 'd']);
  // 9.5 minutes ago with half a 1-minute period of slack: due.
  assert.equal(dueStacks(new Map([['e', 10]]), new Map([['e', '2026-01-01T11:50:30Z']]), now, 30_000), ['e']);
});

test('a timer pass reconciles only the due stacks, in the desired state order, with the timer trigger', async () => {
  const stores = await openStores(storageConfig(loadConfig((await azurite()).env).storage));
  const now = new Date();
  const ago = (min: number) => new Date(now.getTime() - min * 60_000).toISOString();
  await stores.runs.updateStack(platform, (s) => ({ ...s, lastRunAt: ago(20) }));
  await stores.runs.updateStack(identity, (s) => ({ ...s, lastRunAt: ago(20) }));
  await stores.runs.updateStack(corp, (s) => ({ ...s, lastRunAt: ago(6) }));
  // landing has never run.
  const calls: { trigger: string; stacks?: string[] }[] = [];
  const reconciler = {
    deps: { compile: async () => state, stores, now: () => now },
    reconcileAll: async (o: { trigger: string; stacks?: string[] }) => { calls.push(o); return [] as ReconcileResult[]; },
  } as unknown as Reconciler;
  await duePass(reconciler, { defaultMinutes: 10, schedule: parseSchedule(`stack:${corp}=5,domain:${platform}=30`), slackMs: 0 });
  assert.equal(calls.map((c) => [c.trigger, c.stacks]), [['timer', [landing, corp]]]);
});

test.run();

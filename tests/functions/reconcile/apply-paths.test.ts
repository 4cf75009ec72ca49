// Every path to the engine's `up` (manual, push, timer, the bootstrap's pass, approval) goes
// through the one apply step, which runs the declared gates again on what moved since the
// preview. Real stores in Azurite; the engine is a stand-in that records `up` and lets a test act
// "between preview and apply" (the real engine's runs are in loop.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import type { Principal } from '../../../functions/platform/identity.ts';
import { defaultDeps, type EngineStack } from '../../../functions/reconcile/deps.ts';
import { parseGuardrails, type GuardrailsInput } from '../../../functions/reconcile/guardrails.ts';
import { GATE_NAMES } from '../../../functions/reconcile/gates/index.ts';
import { killSwitchGate } from '../../../functions/reconcile/gates/kill-switch.ts';
import { Reconciler, type ReconcileResult } from '../../../functions/reconcile/loop.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import { duePass } from '../../../functions/reconcile/scheduler.ts';
import { ReconcileService } from '../../../functions/reconcile/service.ts';
import { openStores, RateLimitStore, type ReconcileStores } from '../../../functions/reconcile/store/index.ts';
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import { changeSet, mgId, policyAssignment, roleAssignment } from './fixtures.ts';
import { smallState } from './state-fixture.ts';
import type { GateContext } from '../../../functions/reconcile/gates/types.ts';
import { partsFrom, storageFrom } from '../../helpers/config.ts';

const TENANT = '00000000-0000-0000-0000-0000000000bb';
const allowAp = { scopes: { allow: { managementGroups: ['ap*'] } } };
const unique = (p: string) => `${p}${randomBytes(3).toString('hex')}`;
const person = (id: string, groups: string[]): Principal => ({ id, name: id, email: `${id}@contoso.com`, roles: ['PlatformEngineer'], groups });

let stores: ReconcileStores;
let env: NodeJS.ProcessEnv;
test.before(async () => {
  env = { ...process.env, ...(await azurite()).env };
  delete env.NEXUS_KILL_SWITCH;
  stores = await openStores(storageFrom(env), { rateLimitsTable: `ratelimitspaths${randomBytes(4).toString('hex')}` });
});

interface Harness {
  rec: Reconciler;
  /** Targets of every `up` the engine was asked for. */
  ups: string[][];
  /** Runs between the preview and the apply (inside the engine's preview). */
  between: { act?: () => Promise<void> };
}

async function harness(name: string, changes: ChangeSet, guardrails: GuardrailsInput = allowAp, over: { stores?: ReconcileStores } = {}): Promise<Harness> {
  const ups: string[][] = [];
  const between: Harness['between'] = {};
  const g = parseGuardrails(guardrails);
  const engine: EngineStack = {
    preview: async () => { await between.act?.(); return changes; },
    up: async (o) => { ups.push(o?.targets ?? []); return { ...changes, kind: 'up' }; },
    previewRefresh: async () => changeSet([], { stack: name }),
    refresh: async () => changeSet([], { stack: name }),
    exportState: async () => ({ resources: [] }),
    cancel: async () => undefined,
  };
  const deps = await defaultDeps(partsFrom(env), {
    stores: over.stores ?? stores, compile: async () => smallState({ tenantRoot: TENANT, name, assignments: 1 }),
    guardrails: async () => g, openStack: async () => engine, refreshFirst: false,
    trackedCommit: async () => 'c0ffee', commitAuthor: async () => ({ name: 'Carol Smith', email: 'carol@contoso.com' }),
    logger: createLogger({ level: process.env.NEXUS_TEST_LOG ?? 'silent' }),
  });
  return { rec: new Reconciler(deps), ups, between };
}

const assignmentChange = (name: string) => changeSet([policyAssignment(name, 'ap-audit-0')], { stack: name });

function done(r: ReconcileResult | undefined): RunRecord {
  assert.is(r?.status, 'done', JSON.stringify(r));
  return (r as { run: RunRecord }).run;
}

/** The ways a run is started, each to one stack; all end in the same Reconciler. */
const PATHS: Record<string, (h: Harness, stack: string) => Promise<RunRecord>> = {
  manual: async (h, stack) => done(await new ReconcileService(h.rec).reconcile(person('pat', []), { stack, trigger: 'manual' })),
  push: async (h, stack) => done(await h.rec.reconcile({ stack, trigger: 'push', commit: 'c0ffee' })),
  timer: async (h) => {
    const results = await duePass(h.rec, { defaultMinutes: 10, schedule: [], slackMs: 0 });
    assert.is(results.length, 1);
    return done(results[0]);
  },
  // What the first start's bootstrap runs (functions/local.ts): every stack, one at a time.
  bootstrap: async (h) => done((await h.rec.reconcileAll({ trigger: 'manual', concurrency: 1 }))[0]),
};

const switchOn = (why: string) => () => stores.settings.setKillSwitch(true, 'admin@contoso.com', why).then(() => undefined);
const switchOff = () => stores.settings.setKillSwitch(false, 'admin@contoso.com', 'over');

for (const [path, start] of Object.entries(PATHS)) {
  test(`${path}: applies through the apply step, verdicts in the declared gate order`, async () => {
    const name = unique('ap');
    const h = await harness(name, assignmentChange(name));
    const run = await start(h, name);
    assert.is(run.decision, 'applied', JSON.stringify(run.gates.filter((g) => !g.pass)));
    assert.equal(run.gates.map((g) => g.gate), GATE_NAMES);
    assert.equal(h.ups, [[assignmentChange(name).changes[0].urn]]);
  });

  test(`${path}: a kill switch turned on between preview and apply refuses it with the kill-switch gate's own verdict`, async () => {
    const name = unique('ap');
    const h = await harness(name, assignmentChange(name));
    h.between.act = switchOn(`${path} incident`);
    try {
      const run = await start(h, name);
      assert.equal([run.decision, run.reasons], ['blocked', ['KILL_SWITCH']]);
      const ks = run.gates.find((g) => g.gate === 'kill-switch')!;
      const own = killSwitchGate({ killSwitch: await stores.settings.killSwitch() } as GateContext, assignmentChange(name));
      assert.equal([ks.pass, ks.reason, ks.details.message], [own.pass, own.reason, own.details.message]);
      assert.match(ks.details.message, new RegExp(`${path} incident`));
      assert.is(ks.details.atApply, true);
      assert.equal(run.gates.map((g) => g.gate), GATE_NAMES);
      assert.equal(h.ups, [], 'the engine was never asked to apply');
    } finally {
      await switchOff();
    }
  });
}

test('approval: the run an approval starts is refused by a kill switch turned on between its preview and apply', async () => {
  const name = unique('ap');
  const cs = changeSet([roleAssignment(mgId(name), '7c0b1c2d-0000-4000-8000-000000000001')], { stack: name });
  const rules = { ...allowAp, approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] } };
  const h = await harness(name, cs, rules);
  const svc = new ReconcileService(h.rec);
  const held = done(await h.rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.is(held.decision, 'pending-approval');
  h.between.act = switchOn('during the approved run');
  try {
    const { result } = await svc.approve(person('ann', ['platform']), held.id, { reconcile: 'wait' });
    const run = done(result);
    assert.is(run.trigger, 'approval');
    assert.equal([run.decision, run.reasons], ['blocked', ['KILL_SWITCH']]);
    assert.is(run.gates.find((g) => g.gate === 'kill-switch')!.details.atApply, true);
    assert.is(run.gates.find((g) => g.gate === 'approvals')!.reason, 'APPROVED', 'the approval itself still held');
    assert.equal(h.ups, []);
  } finally {
    await switchOff();
  }
  // With the switch off again the approved change applies, through the same step.
  h.between.act = undefined;
  const run = done(await h.rec.reconcile({ stack: name, trigger: 'approval' }));
  assert.is(run.decision, 'applied', JSON.stringify(run.gates.filter((g) => !g.pass)));
  assert.is(h.ups.length, 1);
  assert.is((await stores.approvals.get(held.id))?.status, 'applied');
});

test('rate budget used by another instance between the gates and the apply: refused by the rate-limits gate, cooldown started', async () => {
  const name = unique('ap');
  const cs = assignmentChange(name);
  const limits = { ...allowAp, rateLimits: { cooldownMinutes: 1, maxChangesPerInterval: { policyAssignments: 1 } } };
  const real = await RateLimitStore.open(storageFrom(env), `ratelimitspathsrate${randomBytes(4).toString('hex')}`);
  const cfg = parseGuardrails(limits).rateLimits;
  // Another instance uses the last room right after the gates read the counters (real counters in Azurite).
  let reads = 0;
  const rateLimits = Object.assign(Object.create(real) as RateLimitStore, {
    snapshot: async () => {
      const seen = await real.snapshot();
      if (reads++ === 0) await real.consume({ policyAssignments: 1 }, cfg, new Date(), false);
      return seen;
    },
  });
  const h = await harness(name, cs, limits, { stores: { ...stores, rateLimits } });
  const run = done(await h.rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['RATE_LIMIT']]);
  const rate = run.gates.find((g) => g.gate === 'rate-limits')!;
  assert.equal([rate.pass, rate.details.atApply], [false, true]);
  assert.match(rate.details.message, /policyAssignments: 1 used \+ 1 planned > 1 per \d+ min/);
  assert.ok((await real.snapshot()).counters.policyAssignments?.cooldownUntil, 'the cooldown started');
  assert.equal(h.ups, []);
});

test('rate budget taken while this run consumes: the store refuses, and the record says so through the rate-limits gate', async () => {
  const name = unique('ap');
  const cs = assignmentChange(name);
  const limits = { ...allowAp, rateLimits: { cooldownMinutes: 1, maxChangesPerInterval: { policyAssignments: 1 } } };
  const real = await RateLimitStore.open(storageFrom(env), `ratelimitspathsrace${randomBytes(4).toString('hex')}`);
  const cfg = parseGuardrails(limits).rateLimits;
  // Another instance consumes the last room right as this one consumes (real counters in Azurite).
  const rateLimits = Object.assign(Object.create(real) as RateLimitStore, {
    consume: async (...args: Parameters<RateLimitStore['consume']>) => {
      await real.consume({ policyAssignments: 1 }, cfg, new Date(), false);
      return real.consume(...args);
    },
  });
  const h = await harness(name, cs, limits, { stores: { ...stores, rateLimits } });
  const run = done(await h.rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['RATE_LIMIT']]);
  const rate = run.gates.find((g) => g.gate === 'rate-limits')!;
  assert.equal([rate.pass, rate.details.atApply], [false, true]);
  assert.match(rate.details.message, /policyAssignments: 1 used \+ 1 planned > 1 per \d+ min/, 'the gate\'s own message');
  assert.equal(run.gates.map((g) => g.gate), GATE_NAMES);
  assert.equal(h.ups, []);
});

test("the engine's `up` is called in one place only: the apply step", () => {
  const root = join(import.meta.dirname, '../../../functions');
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const callers = files(root).filter((f) => /\.up\(/.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
  assert.equal(callers, ['reconcile/apply.ts']);
});

test.run();

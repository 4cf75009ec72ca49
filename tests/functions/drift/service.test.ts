// The drift service over the real report store (Azurite), with the Azure signals given as plain
// values: a resource removed from the desired state is deleted, not held; a signal that cannot be
// read leaves what the engine saw drift on as it is; a deployment's stop report is not history.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageFrom } from '../../helpers/config.ts';
import { DriftService } from '../../../functions/drift/service.ts';
import { DriftStore } from '../../../functions/drift/store.ts';
import { judge } from '../../../functions/drift/normalise/judge.ts';
import { loadRules } from '../../../functions/drift/normalise/rules.ts';
import type { DriftSignals } from '../../../functions/drift/signals.ts';
import { finishDrift, startDrift } from '../../../functions/reconcile/drift-step.ts';
import { parseGuardrails } from '../../../functions/reconcile/guardrails.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import type { ChangeSet, ResourceChange } from '../../../stacks/engine/changeset.ts';
import { smallState, mg } from '../reconcile/state-fixture.ts';

const rules = loadRules();
const log = createLogger({ level: 'silent' });
let store: DriftStore;
test.before(async () => {
  const az = await azurite();
  store = await DriftStore.open(storageFrom(az.env));
});

const stackName = () => `sv${randomBytes(3).toString('hex')}`;
const pa = (name: string, i: number) => `${mg(name)}/providers/Microsoft.Authorization/policyAssignments/rc-audit-${i}`;

function signals(over: Partial<DriftSignals> & { bodies?: Map<string, Record<string, unknown> | null> } = {}): DriftSignals {
  return {
    resourceChanges: async () => [], nonCompliant: async () => [], remediations: async () => [], runningDeployments: async () => [],
    live: async (rs) => new Map(rs.map((r) => [r.id.toLowerCase(), over.bodies?.get(r.id.toLowerCase()) ?? null])),
    ...over,
  };
}

const service = (s: DriftSignals) => new DriftService({ signals: s, store, judge: (i) => judge(i, rules), selfIdentities: ['nexus@sandbox'], now: () => new Date() });
const change = (op: ResourceChange['op'], armId: string): ResourceChange => ({ op, urn: `urn:${armId}`, type: 'x', armId, armType: 'Microsoft.Authorization/policyAssignments', changedKeys: [], diffs: [] });
const cs = (...changes: ResourceChange[]): ChangeSet => ({ stack: 's', kind: 'preview', summary: { create: 0, update: 0, replace: 0, delete: 0, same: 0 }, changes, diagnostics: [], policyEvents: [], unknowns: [] });
const run = (stack: string): RunRecord => ({ id: `${Date.now()}000-${randomBytes(4).toString('hex')}`, stack, trigger: 'timer', dryRun: false, status: 'running', reasons: [], gates: [], counts: { create: 0, update: 0, replace: 0, delete: 0, same: 0 }, timings: { startedAt: new Date().toISOString() }, holderId: 'me' });

test('a resource removed from the desired state is deleted by the apply, never held as drift', async () => {
  const name = stackName();
  const state = smallState({ name, assignments: 1, tenantRoot: 'root' });
  const gone = pa(name, 7);
  const live = new Map<string, Record<string, unknown> | null>([[gone.toLowerCase(), { properties: { displayName: 'old' } }]]);
  const drift = service(signals({ bodies: live }));
  const g = parseGuardrails({ drift: { mode: 'report' } });
  const r = run(name);
  const started = await startDrift(drift, r, state, g, log);
  const out = await finishDrift(drift, started, { run: r, detail: { run: r }, state, guardrails: g, refreshPreview: cs(), preview: cs(change('delete', gone)) }, log);
  assert.equal(out.preview.changes.map((c) => c.op), ['delete']);
  assert.is(out.report.items.length, 0);
});

test('a signal that cannot be read: what the engine saw drift on is left as it is, and the report names the signal', async () => {
  const name = stackName();
  const state = smallState({ name, assignments: 2, tenantRoot: 'root' });
  const body = (v: string) => ({ properties: { ...state.resources[1]!.body.properties, displayName: v } });
  const live = new Map<string, Record<string, unknown> | null>([[pa(name, 0).toLowerCase(), body('changed')], [pa(name, 1).toLowerCase(), body('x')]]);
  const drift = service(signals({ bodies: live, remediations: async () => { throw new Error('Policy Insights answered 503'); } }));
  const g = parseGuardrails({});
  const r = run(name);
  const started = await startDrift(drift, r, state, g, log);
  const out = await finishDrift(drift, started, {
    run: r, detail: { run: r }, state, guardrails: g, refreshPreview: cs(change('update', pa(name, 0))), preview: cs(change('update', pa(name, 0)), change('update', pa(name, 1))),
  }, log);
  assert.equal(out.report.unavailable.map((u) => u.signal), ['policy-compliance']);
  assert.equal(out.preview.changes.map((c) => c.armId), [pa(name, 1)], 'only the change the engine saw no drift on goes ahead');
  assert.ok(r.drift!.heldBack >= 1);
});

test('without a baseline, a difference nothing explains is a desired change waiting for its apply, not drift', async () => {
  const name = stackName();
  const state = smallState({ name, assignments: 1, tenantRoot: 'root' });
  const live = new Map<string, Record<string, unknown> | null>([[pa(name, 0).toLowerCase(), { properties: { ...state.resources[1]!.body.properties, displayName: 'before the commit' } }]]);
  const drift = service(signals({ bodies: live }));
  const g = parseGuardrails({ drift: { mode: 'report' } });
  const r = run(name);
  const out = await finishDrift(drift, await startDrift(drift, r, state, g, log), { run: r, detail: { run: r }, state, guardrails: g, refreshPreview: cs(), preview: cs(change('update', pa(name, 0))) }, log);
  assert.is(out.preview.changes.length, 1, 'the commit is applied');
  assert.ok(out.report.suppressed.some((s) => s.rule === 'pending-desired-change'));
});

test("a deployment's stop report is kept as the latest but is not history flapping is judged on", async () => {
  const name = stackName();
  const state = smallState({ name, assignments: 1, tenantRoot: 'root' });
  const drift = service(signals({ runningDeployments: async () => [{ id: `${mg(name)}/providers/Microsoft.Resources/deployments/d`, name: 'd', provisioningState: 'Running' }] }));
  const r = run(name);
  const started = await startDrift(drift, r, state, parseGuardrails({ drift: { deployments: { waitSeconds: 0, pollSeconds: 1 } } }), log);
  assert.ok(started.stop);
  assert.is((await store.get(name))?.runId, r.id);
  assert.is((await store.recent(name)).length, 0);
});

test.run();

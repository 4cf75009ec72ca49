// Drift through the whole loop with the real engine, Azurite and the ARM sandbox, whose side door
// records who changed what: who is reported, report mode leaves the change, remediate mode puts it
// back, a default-value difference is suppressed with its rule named, a flapping property is
// reported once and not fought, a running deployment makes the run wait.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { liveParts, releaseLive, unique, type Live } from '../reconcile/live.ts';
import { mg, smallState } from '../reconcile/state-fixture.ts';
import type { ReconcileResult } from '../../../functions/reconcile/loop.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import { openDrift } from '../../../functions/runtime/drift.ts';
import { partsFrom } from '../../helpers/config.ts';
import { DriftStore } from '../../../functions/drift/store.ts';
import type { DriftService } from '../../../functions/drift/service.ts';
import type { GuardrailsInput } from '../../../functions/reconcile/guardrails.ts';

let L: Live;
let drift: DriftService;
let store: DriftStore;
test.before(async () => {
  L = await liveParts();
  const parts = partsFrom(L.env);
  drift = (await openDrift(parts))!;
  store = await DriftStore.open(parts.storage);
});
test.after(() => releaseLive());

const allow = (more: GuardrailsInput = {}): GuardrailsInput => ({ scopes: { allow: { managementGroups: ['dr*'] } }, ...more });
const done = (r: ReconcileResult): RunRecord => {
  assert.is(r.status, 'done', JSON.stringify(r));
  return (r as { run: RunRecord }).run;
};
const assignment = (name: string) => `${mg(name)}/providers/Microsoft.Authorization/policyAssignments/rc-audit-0`;

async function applied(name: string) {
  const state = smallState({ name, assignments: 1, tenantRoot: L.tenantRoot });
  const first = done(await (await L.reconciler(() => state, allow(), { drift })).reconcile({ stack: name, trigger: 'manual' }));
  assert.is(first.decision, 'applied', JSON.stringify(first));
  return state;
}

test('a property a person changed: reported with who; report mode leaves it, remediate mode puts it back', async () => {
  const name = unique('dr');
  const state = await applied(name);
  L.sideDoorUpdate(assignment(name), { properties: { enforcementMode: 'DoNotEnforce' } }, 'alice@contoso.com');

  const reporting = await L.reconciler(() => state, allow({ drift: { mode: 'report' } }), { drift });
  const held = done(await reporting.reconcile({ stack: name, trigger: 'timer' }));
  assert.is(held.decision, 'report-only', JSON.stringify(held));
  assert.equal(held.reasons, ['DRIFT_HELD']);
  assert.is(held.drift?.heldBack, 1);
  const report = (await store.get(name, held.id))!;
  const item = report.items.find((i) => i.resourceId.toLowerCase() === assignment(name).toLowerCase())!;
  assert.ok(item, JSON.stringify(report));
  assert.is(item.kind, 'configuration');
  assert.is(item.action, 'report');
  const prop = item.properties.find((p) => p.path === 'properties.enforcementMode')!;
  assert.equal([prop.desired, prop.live], ['Default', 'DoNotEnforce']);
  assert.is(prop.changedBy?.changedBy, 'alice@contoso.com');
  assert.is(prop.changedBy?.actor, 'person');
  assert.ok(item.signals.includes('change-history'));
  assert.is((await L.get(assignment(name), '2022-06-01')).body.properties.enforcementMode, 'DoNotEnforce', 'report mode does not put it back');

  const remediating = await L.reconciler(() => state, allow(), { drift });
  const back = done(await remediating.reconcile({ stack: name, trigger: 'timer' }));
  assert.is(back.decision, 'applied', JSON.stringify(back));
  assert.is((await L.get(assignment(name), '2022-06-01')).body.properties.enforcementMode, 'Default');
  assert.is((await store.get(name, back.id))!.items.find((i) => i.kind === 'configuration')?.action, 'remediate');
  assert.is((await store.get(name))!.runId, back.id, 'the latest report is the last run\'s');
});

test('a change made by a DeployIfNotExists remediation is left to the policy: reported, never reverted', async () => {
  const name = unique('dr');
  const base = smallState({ name, assignments: 1, tenantRoot: L.tenantRoot });
  const dineId = `${mg(name)}/providers/Microsoft.Authorization/policyAssignments/rc-dine`;
  const state = { ...base, resources: [...base.resources, {
    ...base.resources[1]!, id: dineId, name: 'rc-dine',
    body: { location: 'westeurope', identity: { type: 'SystemAssigned' }, properties: { ...base.resources[1]!.body.properties, displayName: 'DINE' } },
  }] };
  state.stacks = [{ ...state.stacks[0]!, resourceIds: state.resources.map((r) => r.id) }];
  const rec = await L.reconciler(() => state, allow(), { drift });
  assert.is(done(await rec.reconcile({ stack: name, trigger: 'manual' })).decision, 'applied');
  L.sandbox.state.remediate({ assignmentId: dineId, resourceId: assignment(name), patch: { properties: { displayName: 'set by policy' } }, effect: 'deployIfNotExists' });
  const run = done(await rec.reconcile({ stack: name, trigger: 'timer' }));
  assert.is(run.decision, 'report-only', JSON.stringify(run));
  assert.equal(run.reasons, ['DRIFT_HELD']);
  const item = (await store.get(name, run.id))!.items.find((i) => i.resourceId.toLowerCase() === assignment(name).toLowerCase())!;
  assert.equal([item.kind, item.action], ['remediation', 'leave-to-policy']);
  assert.is(item.properties[0].changedBy?.actor, 'policy');
  assert.is((await L.get(assignment(name), '2022-06-01')).body.properties.displayName, 'set by policy', 'not reverted');
});

test('a default-value difference is suppressed with its rule named, and no drift is reported', async () => {
  const name = unique('dr');
  const state = await applied(name);
  // Empty notScopes where the program never set any: the same as absent.
  L.sideDoorUpdate(assignment(name), { properties: { notScopes: [] } }, 'bob@contoso.com');
  const run = done(await (await L.reconciler(() => state, allow(), { drift })).reconcile({ stack: name, trigger: 'timer' }));
  assert.is(run.decision, 'no-change', JSON.stringify(run));
  const report = (await store.get(name, run.id))!;
  assert.is(report.items.filter((i) => i.kind === 'configuration').length, 0, JSON.stringify(report.items));
  const rule = report.suppressed.find((s) => s.examples.some((e) => e.startsWith('properties.notScopes')));
  assert.ok(rule, JSON.stringify(report.suppressed));
  assert.ok(rule!.rule.length > 0 && rule!.count >= 1);
});

test('a flapping property is reported as flapping, once per run, and still put back in remediate mode', async () => {
  const name = unique('dr');
  const state = await applied(name);
  const rec = await L.reconciler(() => state, allow(), { drift });
  const flip = () => L.sideDoorUpdate(assignment(name), { properties: { displayName: 'flip' } }, 'carol@contoso.com');
  flip();
  assert.is(done(await rec.reconcile({ stack: name, trigger: 'timer' })).decision, 'applied');
  assert.is(done(await rec.reconcile({ stack: name, trigger: 'timer' })).decision, 'no-change');
  flip();
  const flapping = done(await rec.reconcile({ stack: name, trigger: 'timer' }));
  assert.is(flapping.decision, 'applied', JSON.stringify(flapping));
  const items = (await store.get(name, flapping.id))!.items.filter((i) => i.resourceId.toLowerCase() === assignment(name).toLowerCase());
  assert.equal(items.map((i) => [i.kind, i.action]), [['flapping', 'remediate']], 'one item, of kind flapping');
  assert.is((await L.get(assignment(name), '2022-06-01')).body.properties.displayName, `Audit 0 v1`, 'put back again');
  // In report mode the same fight is left alone and reported.
  flip();
  const reported = done(await (await L.reconciler(() => state, allow({ drift: { mode: 'report' } }), { drift })).reconcile({ stack: name, trigger: 'timer' }));
  assert.is(reported.decision, 'report-only', JSON.stringify(reported));
  assert.ok(!reported.gates.some((g) => !g.pass), `no gate fails because drift was held: ${JSON.stringify(reported.gates.filter((g) => !g.pass))}`);
  assert.equal((await store.get(name, reported.id))!.items.filter((i) => i.resourceId.toLowerCase() === assignment(name).toLowerCase()).map((i) => [i.kind, i.action]), [['flapping', 'report']]);
  assert.is((await L.get(assignment(name), '2022-06-01')).body.properties.displayName, 'flip');
});

test('a property the program never set, changed by a person: reported (the apply would not change it), never promised as remediated', async () => {
  const name = unique('dr');
  const state = await applied(name);
  L.sideDoorUpdate(assignment(name), { properties: { description: 'set by hand' } }, 'erin@contoso.com');
  const run = done(await (await L.reconciler(() => state, allow(), { drift })).reconcile({ stack: name, trigger: 'timer' }));
  assert.is(run.decision, 'report-only', JSON.stringify(run));
  const item = (await store.get(name, run.id))!.items.find((i) => i.kind === 'configuration')!;
  assert.is(item.action, 'report');
  assert.match(item.why, /not set by the program/);
  assert.is(item.properties[0].changedBy?.changedBy, 'erin@contoso.com');
});

test('a deployment running on the stack scope makes the run wait; still running, it reports and never races it', async () => {
  const name = unique('dr');
  const state = await applied(name);
  const g = allow({ drift: { deployments: { waitSeconds: 1, pollSeconds: 0.2 } } });
  const rec = await L.reconciler(() => state, g, { drift });
  L.sandbox.state.startDeployment({ scope: mg(name), name: 'long-one' });
  const stopped = done(await rec.reconcile({ stack: name, trigger: 'timer' }));
  assert.is(stopped.decision, 'report-only');
  assert.equal(stopped.reasons, ['DEPLOYMENT_IN_PROGRESS']);
  assert.ok(stopped.timings.totalMs! >= 900, 'it waited first');
  const report = (await store.get(name, stopped.id))!;
  assert.equal(report.items.map((i) => [i.kind, i.action]), [['deployment-in-progress', 'wait']]);

  L.sideDoorUpdate(assignment(name), { properties: { enforcementMode: 'DoNotEnforce' } }, 'dave@contoso.com');
  setTimeout(() => L.sandbox.state.finishDeployment({ scope: mg(name), name: 'long-one' }), 300);
  const after = done(await (await L.reconciler(() => state, allow({ drift: { deployments: { waitSeconds: 10, pollSeconds: 0.1 } } }), { drift })).reconcile({ stack: name, trigger: 'timer' }));
  assert.is(after.decision, 'applied', 'once the deployment finished the run went on');
});

test.run();

// Safety properties of the decision over generated change sets: nothing touching a denied scope
// or the tenant root is ever applied, and with the kill switch on nothing is applied at all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { ChangeSet, ResourceChange } from '../../../stacks/engine/changeset.ts';
import { decide } from '../../../functions/reconcile/decide.ts';
import { runGates } from '../../../functions/reconcile/gates/index.ts';
import { changeTargets, isMutating, type ScopeHierarchy } from '../../../functions/reconcile/scope.ts';
import { TENANT, changeSet, context, mgId } from './fixtures.ts';
import type { ApprovalRecord } from '../../../functions/reconcile/gates/types.ts';

// denied-mg sits under alz; alz-under-denied and alz-deeper below it (the allow pattern alz*
// matches them, the deny must still win); sub-under-denied is placed in alz-deeper.
// alz-orphan's parent alz-gone is not in the desired state (deleted, or made elsewhere), and
// alz-lost has no known parent: either may sit inside denied-mg; sub-orphan is placed in alz-orphan.
const RESOLVED_MGS = [TENANT, 'alz', 'alz-corp', 'alz-online', 'platform', 'contoso', 'denied-mg', 'alz-under-denied', 'alz-deeper'];
const MGS = [...RESOLVED_MGS, 'alz-orphan', 'alz-gone', 'alz-lost'];
const SUBS = ['sub-a', 'sub-b', 'sub-denied', 'sub-under-denied', 'sub-orphan'];
const UNDER_DENIED = { groups: ['alz-under-denied', 'alz-deeper'], subscriptions: ['sub-under-denied'] };
const SUB_GROUP: Record<string, string> = { 'sub-a': 'alz-corp', 'sub-b': 'contoso', 'sub-under-denied': 'alz-deeper', 'sub-orphan': 'alz-orphan' };
const HIERARCHY: ScopeHierarchy = {
  parentOf: new Map([['alz', TENANT], ['alz-corp', 'alz'], ['alz-online', 'alz'], ['platform', 'alz'], ['contoso', TENANT],
    ['denied-mg', 'alz'], ['alz-under-denied', 'denied-mg'], ['alz-deeper', 'alz-under-denied'], ['alz-orphan', 'alz-gone']].map(([k, v]) => [k.toLowerCase(), v.toLowerCase()])),
  groupOfSubscription: new Map(Object.entries(SUB_GROUP)),
};
const OPS: ResourceChange['op'][] = ['same', 'create', 'update', 'replace', 'delete', 'read', 'create-replacement', 'delete-replaced'];
const TYPES = ['Microsoft.Authorization/policyAssignments', 'Microsoft.Authorization/roleAssignments',
  'Microsoft.Authorization/policyDefinitions', 'Microsoft.Management/managementGroups', 'Microsoft.Resources/resourceGroups'];

const scopeArb = fc.oneof(
  fc.constant('/'),
  fc.constantFrom(...MGS).map(mgId),
  fc.constantFrom(...SUBS).map((s) => `/subscriptions/${s}`),
  fc.tuple(fc.constantFrom(...SUBS), fc.constantFrom('rg1', 'rg-denied')).map(([s, g]) => `/subscriptions/${s}/resourceGroups/${g}`),
);

const changeArb: fc.Arbitrary<ResourceChange> = fc.record({
  op: fc.constantFrom(...OPS),
  armType: fc.constantFrom(...TYPES),
  scope: fc.option(scopeArb, { nil: undefined }),
  name: fc.stringMatching(/^[a-z]{1,8}$/),
  // Groups: known ones, or any name (a group the desired state does not hold).
  group: fc.oneof(fc.constantFrom(...MGS), fc.stringMatching(/^[a-z]{1,8}$/)),
  // A move: the parent the group had before, as the change's diffs carry it.
  oldParent: fc.option(fc.constantFrom(...MGS, 'alz-elsewhere'), { nil: undefined }),
  idAtScope: fc.boolean(),
}).map(({ op, armType, scope, name, group, oldParent, idAtScope }) => {
  const isGroup = armType === 'Microsoft.Management/managementGroups';
  const armId = isGroup
    ? mgId(group)
    : idAtScope && scope !== undefined ? `${scope === '/' ? '' : scope}/providers/${armType}/${name}` : undefined;
  const diffs = isGroup && oldParent !== undefined && (op === 'update' || op === 'replace')
    ? [{ path: 'properties.details.parent.id', kind: 'update' as const, old: mgId(oldParent), new: mgId('alz') }]
    : [];
  return { op, armType, scope, armId, urn: `urn:pulumi:s::p::t::${isGroup ? group : name}`, type: 'nexus:arm:Resource', changedKeys: diffs.map((d) => d.path), diffs };
});

const guardrailsArb = fc.record({
  allowTenantRoot: fc.boolean(),
  onExceed: fc.constantFrom('fail-closed' as const, 'report-only' as const),
  allowAll: fc.boolean(),
});

const approvalArb = fc.option(fc.record({
  status: fc.constantFrom('pending' as const, 'approved' as const, 'rejected' as const),
  matches: fc.boolean(),
}), { nil: undefined });

function scenario(changes: ResourceChange[], g: { allowTenantRoot: boolean; onExceed: 'fail-closed' | 'report-only'; allowAll: boolean },
  killSwitch: boolean, approval: { status: ApprovalRecord['status']; matches: boolean } | undefined) {
  const guardrails = {
    scopes: {
      allow: g.allowAll ? {} : { managementGroups: ['alz*', 'platform', TENANT] },
      deny: { managementGroups: ['denied-mg'], subscriptions: ['sub-denied'], resourceGroups: ['*/rg-denied'] },
      allowTenantRoot: g.allowTenantRoot,
    },
    previewReliability: { onExceed: g.onExceed },
    approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] },
  };
  const rec: ApprovalRecord | undefined = approval && {
    id: 'ap', stack: 'alz', runId: 'r0', status: approval.status, changeSetHash: approval.matches ? 'cs' : 'old',
    desiredStateHash: 'ds', liveFingerprint: 'live', createdAt: '2026-01-01T11:00:00Z', expiresAt: '2026-01-02T00:00:00Z',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }, { rule: 'protected-delete', group: 'nexus-admins', approvers: 2 }],
    votes: [{ by: 'a', groups: ['platform', 'nexus-admins'], at: 'x', source: 'api' }, { by: 'b', groups: ['nexus-admins'], at: 'x', source: 'api' }],
  };
  const ctx = context({ guardrails, killSwitch: { on: killSwitch, source: 'settings' }, approval: rec, hierarchy: HIERARCHY });
  const cs: ChangeSet = changeSet(changes);
  return { ctx, cs, outcome: decide(cs, runGates(ctx, cs), { dryRun: false }) };
}

/** A group the hierarchy cannot follow to the tenant root: it might be inside denied-mg. */
const unplaced = (mg: string | undefined) => mg !== undefined && !RESOLVED_MGS.includes(mg);
const insideDenied = (mg: string) => mg === 'denied-mg' || UNDER_DENIED.groups.includes(mg);

const touchesForbidden = (c: ResourceChange, allowTenantRoot: boolean) => {
  if (!isMutating(c.op)) return false;
  const targets = changeTargets(c);
  if (!targets) return true; // unknown scope counts as forbidden: it must never apply
  // A group moved out of (or from somewhere unknown next to) the denied group changes it too.
  const old = c.diffs.find((d) => d.path === 'properties.details.parent.id')?.old as string | undefined;
  const oldParent = old?.split('/').pop();
  if (oldParent && (insideDenied(oldParent) || unplaced(oldParent))) return true;
  return targets.some((t) =>
    (!allowTenantRoot && (t.level === 'tenant' || t.managementGroup === TENANT)) ||
    insideDenied(t.managementGroup ?? '') || unplaced(t.managementGroup) ||
    t.subscription === 'sub-denied' || t.resourceGroup === 'rg-denied' ||
    UNDER_DENIED.subscriptions.includes(t.subscription ?? '') || unplaced(t.subscription && SUB_GROUP[t.subscription]));
};

test('no change set touching a denied scope (or anything inside one) or the tenant root is ever applied', () => {
  fc.assert(fc.property(fc.array(changeArb, { minLength: 1, maxLength: 12 }), guardrailsArb, approvalArb, (changes, g, ap) => {
    const { outcome } = scenario(changes, g, false, ap);
    if (changes.some((c) => touchesForbidden(c, g.allowTenantRoot))) {
      assert.is.not(outcome.verdict, 'apply');
      assert.ok(outcome.verdict === 'blocked', `expected blocked, got ${outcome.verdict}`);
    }
  }), { numRuns: 2000 });
});

test('with the kill switch on nothing is ever applied, and KILL_SWITCH is always a reason when something would change', () => {
  fc.assert(fc.property(fc.array(changeArb, { maxLength: 12 }), guardrailsArb, approvalArb, (changes, g, ap) => {
    const { outcome } = scenario(changes, g, true, ap);
    assert.is.not(outcome.verdict, 'apply');
    if (changes.some((c) => isMutating(c.op))) assert.ok(outcome.reasons.includes('KILL_SWITCH'));
  }), { numRuns: 2000 });
});

test('apply happens only when every gate passed', () => {
  fc.assert(fc.property(fc.array(changeArb, { maxLength: 8 }), guardrailsArb, approvalArb, fc.boolean(), (changes, g, ap, ks) => {
    const { ctx, cs, outcome } = scenario(changes, g, ks, ap);
    if (outcome.verdict === 'apply') assert.ok(runGates(ctx, cs).every((r) => r.pass));
  }), { numRuns: 1000 });
});

test('decision order: block beats report-only beats hold; dry run never applies', () => {
  const cs = changeSet([{ op: 'create', urn: 'u', type: 't', armId: mgId('alz'), scope: '/', changedKeys: [], diffs: [] }]);
  const g = (gate: string, p: Partial<{ pass: boolean; hold: boolean; reportOnly: boolean }>) =>
    ({ gate, pass: true, reason: gate.toUpperCase(), details: { message: '' }, ...p }) as never;
  assert.is(decide(cs, [g('a', { pass: false, hold: true }), g('b', { pass: false })], { dryRun: false }).verdict, 'blocked');
  assert.is(decide(cs, [g('a', { pass: false, hold: true }), g('b', { pass: false, reportOnly: true })], { dryRun: false }).verdict, 'report-only');
  assert.is(decide(cs, [g('a', { pass: false, hold: true })], { dryRun: false }).verdict, 'pending-approval');
  assert.is(decide(cs, [g('a', {})], { dryRun: true }).verdict, 'dry-run');
  // A dry run never waits for approval: it reports what it would need.
  assert.equal(decide(cs, [g('a', { pass: false, hold: true })], { dryRun: true }), { verdict: 'dry-run', reasons: ['A'] });
  assert.is(decide(cs, [g('a', {})], { dryRun: false }).verdict, 'apply');
  assert.is(decide(changeSet([]), [g('a', { pass: false })], { dryRun: false }).verdict, 'no-change');
});

test.run();

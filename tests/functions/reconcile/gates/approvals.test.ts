import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { approvalRequirements, approvalsGate, identities, requirementsMet } from '../../../../functions/reconcile/gates/approvals.ts';
import type { ApprovalRecord } from '../../../../functions/reconcile/gates/types.ts';
import { parseGuardrails } from '../../../../functions/reconcile/guardrails.ts';
import { changeSet, context, managementGroup, policyAssignment, roleAssignment } from '../fixtures.ts';

const guardrails = {
  approvals: {
    rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 2 }],
    protectedDeletes: { group: 'admins', approvers: 1 },
  },
};
const roles = changeSet([roleAssignment('/subscriptions/1', 'r')]);

function record(p: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: 'ap1', stack: 'alz', runId: 'run-0', status: 'approved', changeSetHash: 'cs', desiredStateHash: 'ds', liveFingerprint: 'live',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 2 }], author: 'carol', createdAt: '2026-01-01T11:00:00Z',
    expiresAt: '2026-01-01T13:00:00Z',
    votes: [{ by: 'ann', groups: ['platform'], at: '2026-01-01T11:10:00Z', source: 'api' }, { by: 'bob', groups: ['platform'], at: '2026-01-01T11:20:00Z', source: 'api' }],
    ...p,
  };
}

test('no rule applies: passes', () => {
  const r = approvalsGate(context({ guardrails }), changeSet([policyAssignment('alz', 'a')]));
  assert.is(r.pass, true);
  assert.is(r.reason, 'NOT_REQUIRED');
});

test('a matching rule without an approval holds the run', () => {
  const r = approvalsGate(context({ guardrails }), roles);
  assert.is(r.pass, false);
  assert.is(r.hold, true);
  assert.is(r.reason, 'APPROVAL_REQUIRED');
  assert.match(r.details.message, /2 from platform/);
});

test('protected deletes need approval even with no rule', () => {
  const r = approvalsGate(context({ guardrails }), changeSet([managementGroup('alz-corp', 'delete')]));
  assert.is(r.reason, 'APPROVAL_REQUIRED');
  assert.match(r.details.message, /protected-delete/);
});

test('an approval of this exact preview passes', () => {
  const r = approvalsGate(context({ guardrails, approval: record() }), roles);
  assert.is(r.pass, true, r.details.message);
  assert.is(r.reason, 'APPROVED');
});

test('pending while short of approvers', () => {
  const r = approvalsGate(context({ guardrails, approval: record({ status: 'pending', votes: [record().votes[0]] }) }), roles);
  assert.is(r.reason, 'APPROVAL_PENDING');
  assert.is(r.hold, true);
});

test('stale when the change set, the desired state or the live state moved', () => {
  for (const moved of [{ changeSetHash: 'x' }, { desiredStateHash: 'x' }, { liveFingerprint: 'x' }]) {
    const r = approvalsGate(context({ guardrails, approval: record(), ...moved }), roles);
    assert.is(r.pass, false);
    assert.is(r.reason, 'APPROVAL_STALE');
  }
});

test('expired approvals no longer count', () => {
  const r = approvalsGate(context({ guardrails, approval: record(), now: new Date('2026-01-01T13:00:01Z') }), roles);
  assert.is(r.reason, 'APPROVAL_EXPIRED');
});

test('a rejection blocks this preview (no hold)', () => {
  const r = approvalsGate(context({ guardrails, approval: record({ status: 'rejected', rejectedBy: 'dan', reason: 'not now' }) }), roles);
  assert.is(r.reason, 'APPROVAL_REJECTED');
  assert.is(r.hold, false);
});

test('an already applied approval is single use', () => {
  assert.is(approvalsGate(context({ guardrails, approval: record({ status: 'applied' }) }), roles).reason, 'APPROVAL_REQUIRED');
});

test('the commit author and people outside the group do not count', () => {
  const base = record();
  assert.is(requirementsMet(base), true);
  assert.is(requirementsMet({ ...base, author: 'ann' }), false);
  assert.is(requirementsMet({ ...base, votes: [base.votes[0], { ...base.votes[1], groups: ['other'] }] }), false);
  assert.is(requirementsMet({ ...base, votes: [base.votes[0], { ...base.votes[0], at: 'later' }] }), false);
});

test('an approval given under looser rules does not satisfy tightened ones', () => {
  // Approved when one approver from platform was enough; the rule now asks for two.
  const loose = record({ requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }], votes: [record().votes[0]] });
  const r = approvalsGate(context({ guardrails, approval: loose }), roles);
  assert.is(r.pass, false);
  assert.is(r.reason, 'APPROVAL_STALE');
  assert.equal(r.details.stale, ['requirements']);
  // Even with enough votes in number: the rule now names another group.
  const otherGroup = { approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'security', approvers: 2 }] } };
  const r2 = approvalsGate(context({ guardrails: otherGroup, approval: record() }), roles);
  assert.is(r2.pass, false);
  assert.is(r2.reason, 'APPROVAL_STALE');
  // The same rules as at approval time: passes.
  assert.is(approvalsGate(context({ guardrails, approval: record() }), roles).pass, true);
});

test('a rejection of this preview stands even when the rules changed', () => {
  const loose = { approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] } };
  const r = approvalsGate(context({ guardrails: loose, approval: record({ status: 'rejected', rejectedBy: 'dan' }) }), roles);
  assert.is(r.reason, 'APPROVAL_REJECTED');
});

test('an approval marked expired no longer counts', () => {
  assert.is(approvalsGate(context({ guardrails, approval: record({ status: 'expired' }) }), roles).reason, 'APPROVAL_EXPIRED');
});

test('identities: names and emails, any case, emails also by their local part', () => {
  assert.equal(identities('Carol Smith <Carol@Contoso.com>'), ['carol smith', 'carol@contoso.com', 'carol']);
  assert.equal(identities(undefined, ' ', 'bob'), ['bob']);
});

test('the commit author (by name or email) and the requester do not count as approvers', () => {
  const base = record({ author: 'Ann Lee <ANN@contoso.com>', votes: [{ by: 'ann@contoso.com', groups: ['platform'], at: 'x', source: 'api' }, { by: 'bob', groups: ['platform'], at: 'x', source: 'api' }] });
  assert.is(requirementsMet(base), false);
  assert.is(requirementsMet({ ...base, author: 'Ann Lee', votes: base.votes.map((v, i) => (i === 0 ? { ...v, by: 'al@fabrikam.com', name: 'ann lee' } : v)) }), false);
  assert.is(requirementsMet({ ...base, author: undefined, requestedBy: 'bob' }), false);
  assert.is(requirementsMet({ ...base, author: undefined }), true);
});

test('author unknown: every requirement needs at least two approvers; a one-approver approval is not enough', () => {
  const one = { approvals: { ...guardrails.approvals, rules: [{ ...guardrails.approvals.rules[0], approvers: 1 }] } };
  const g = parseGuardrails(one);
  assert.equal(approvalRequirements(roles, g).map((r) => r.approvers), [1]);
  assert.equal(approvalRequirements(roles, g, { authorUnknown: true }), [{ rule: 'roles', group: 'platform', approvers: 2, raisedBy: 'AUTHOR_UNKNOWN' }]);
  // Already two or more: left as configured.
  assert.equal(approvalRequirements(changeSet([managementGroup('alz-corp', 'delete')]), parseGuardrails({ approvals: { protectedDeletes: { group: 'admins', approvers: 3 } } }), { authorUnknown: true }).map((r) => [r.approvers, r.raisedBy]), [[3, undefined]]);
  const single = record({ requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }], votes: [record().votes[0]] });
  assert.is(approvalsGate(context({ guardrails: one, approval: single }), roles).pass, true, 'with a known author one approver is enough');
  const r = approvalsGate(context({ guardrails: one, approval: single, authorUnknown: true }), roles);
  assert.equal([r.pass, r.reason], [false, 'APPROVAL_STALE']);
  assert.match(r.details.message, /2 from platform \(roles; AUTHOR_UNKNOWN/);
  const pending = record({ status: 'pending', requirements: [{ rule: 'roles', group: 'platform', approvers: 2 }], votes: [record().votes[0]] });
  assert.is(approvalsGate(context({ guardrails: one, approval: pending, authorUnknown: true }), roles).reason, 'APPROVAL_PENDING');
  assert.is(approvalsGate(context({ guardrails: one, approval: record(), authorUnknown: true }), roles).pass, true, 'two distinct approvers');
});

test.run();

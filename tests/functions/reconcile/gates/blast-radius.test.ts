import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blastRadiusGate } from '../../../../functions/reconcile/gates/blast-radius.ts';
import { changeSet, context, managementGroup, mgId, policyAssignment, roleAssignment } from '../fixtures.ts';
import type { ApprovalRecord } from '../../../../functions/reconcile/gates/types.ts';

const limits = { blastRadius: { maxChangesPerRun: { policyAssignments: 2, roleAssignments: 1 } } };

test('passes within the per-run limits', () => {
  const r = blastRadiusGate(context({ guardrails: limits }), changeSet([policyAssignment('alz', 'a'), policyAssignment('alz', 'b'), roleAssignment('/subscriptions/1', 'r')]));
  assert.is(r.pass, true);
  assert.equal(r.details.counts, { policyAssignments: 2, roleAssignments: 1 });
});

test('blocks past a per-kind limit, naming the kind', () => {
  const r = blastRadiusGate(context({ guardrails: limits }), changeSet(['a', 'b', 'c'].map((n) => policyAssignment('alz', n))));
  assert.is(r.pass, false);
  assert.is(r.hold, undefined);
  assert.is(r.reason, 'BLAST_RADIUS_EXCEEDED');
  assert.match(r.details.message, /3 policyAssignments changes \(max 2/);
});

test('unchanged resources do not count', () => {
  const r = blastRadiusGate(context({ guardrails: limits }), changeSet(['a', 'b', 'c'].map((n) => policyAssignment('alz', n, 'same'))));
  assert.is(r.pass, true);
});

test('a management group delete or a group-scope role assignment delete holds for approval', () => {
  for (const c of [managementGroup('alz-corp', 'delete'), roleAssignment(mgId('alz'), 'r', 'delete')]) {
    const r = blastRadiusGate(context(), changeSet([c]));
    assert.is(r.pass, false);
    assert.is(r.hold, true);
    assert.is(r.reason, 'PROTECTED_DELETE');
  }
  // A subscription-scope role assignment delete is not protected by this gate.
  assert.is(blastRadiusGate(context(), changeSet([roleAssignment('/subscriptions/1', 'r', 'delete')])).pass, true);
});

test('a protected delete passes with a valid approval of this exact preview', () => {
  const approval: ApprovalRecord = {
    id: 'ap', stack: 'alz', runId: 'run-0', status: 'approved', changeSetHash: 'cs', desiredStateHash: 'ds', liveFingerprint: 'live',
    requirements: [{ rule: 'protected-delete', group: 'admins', approvers: 1 }], createdAt: '2026-01-01T11:00:00Z',
    expiresAt: '2026-01-02T00:00:00Z', votes: [{ by: 'bob', groups: ['admins'], at: '2026-01-01T11:30:00Z', source: 'api' }],
  };
  const cs = changeSet([managementGroup('alz-corp', 'delete')]);
  const guardrails = { approvals: { protectedDeletes: { group: 'admins', approvers: 1 } } };
  assert.is(blastRadiusGate(context({ guardrails, approval }), cs).reason, 'PROTECTED_DELETE_APPROVED');
  assert.is(blastRadiusGate(context({ guardrails, approval, changeSetHash: 'other' }), cs).reason, 'PROTECTED_DELETE');
  // The rules now ask for two from nexus-admins (the default): the approval given under the old ones does not count.
  assert.is(blastRadiusGate(context({ approval }), cs).reason, 'PROTECTED_DELETE');
});

test.run();

// Which approval sources the gates ask: pull request reviews count only where the guardrails allow
// them (approvals.pullRequestReviews), against the real approval store in Azurite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gateContext } from '../../../functions/reconcile/gate-inputs.ts';
import type { ReconcileDeps } from '../../../functions/reconcile/deps.ts';
import { parseGuardrails } from '../../../functions/reconcile/guardrails.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import { apiApprovalSource, newRunId, openStores, REVIEW_SOURCE, type ApprovalSource } from '../../../functions/reconcile/store/index.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { azurite } from '../../helpers/azurite.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';

const review: ApprovalSource = { name: REVIEW_SOURCE, votes: async () => [{ by: 'carol@contoso.com', name: 'Carol', groups: ['platform'], at: new Date().toISOString(), source: REVIEW_SOURCE }] };
const state = { tenantRootId: 'root', stacks: [], resources: [], findings: [] } as unknown as DesiredState;

async function context(pullRequestReviews: boolean) {
  const az = await azurite();
  const stores = await openStores(storageConfig({ connectionString: az.connectionString }));
  const stack = `src${Date.now().toString(36)}${pullRequestReviews ? 'a' : 'b'}`;
  const runId = newRunId();
  await stores.approvals.request({
    stack, runId, changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l', requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }],
    commit: 'm', author: 'Mona <mona@contoso.com>', now: new Date(), expiresAfterMinutes: 60,
  });
  const d = { stores, now: () => new Date(), approvalSources: [apiApprovalSource, review] } as unknown as ReconcileDeps;
  const run = { id: newRunId(), stack, dryRun: false, changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l' } as RunRecord;
  const guardrails = parseGuardrails({ approvals: { pullRequestReviews } });
  return gateContext(d, run, state, { guardrails, killSwitch: { on: false }, authors: ['mona'] });
}

test('reviews are collected when the guardrails allow them (the default), and not when they do not', async () => {
  assert.is(parseGuardrails({}).approvals.pullRequestReviews, true);
  const allowed = await context(true);
  assert.equal(allowed.approval?.votes.map((v) => [v.by, v.source]), [['carol@contoso.com', REVIEW_SOURCE]]);
  assert.is(allowed.approval?.status, 'approved');
  const refused = await context(false);
  assert.equal(refused.approval?.votes, []);
  assert.is(refused.approval?.status, 'pending');
});

test.run();

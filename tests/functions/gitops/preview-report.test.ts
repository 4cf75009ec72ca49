// The pure parts of a pull request preview: affected stacks by desired-state hash (changed, new,
// removed), one stack's dry run as the comment shows it, and the check's conclusion.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeStates, smallState } from '../reconcile/state-fixture.ts';
import { affectedStacks, conclusionOf, removedStack, stackPreviewOf } from '../../../functions/gitops/preview-report.ts';
import type { GateResult, RunRecord } from '../../../functions/reconcile/model.ts';
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';

const T = 'tenant-root';
const st = (name: string, version = 'v1') => smallState({ tenantRoot: T, name, assignments: 1, version });

test('affected stacks: a changed one, a new one and a removed one; the rest unchanged', () => {
  const base = mergeStates([st('a'), st('b'), st('c')]);
  const head = mergeStates([st('a'), st('b', 'v2'), st('d')]);
  assert.equal(affectedStacks(base, head), { changed: ['b', 'd'], removed: ['c'], unchanged: ['a'] });
  // No base (it did not compile): every stack of the head.
  assert.equal(affectedStacks(undefined, head), { changed: ['a', 'b', 'd'], removed: [], unchanged: [] });
  assert.equal(affectedStacks(base, base), { changed: [], removed: [], unchanged: ['a', 'b', 'c'] });
});

const cs: ChangeSet = { stack: 's', kind: 'preview', changes: [{ op: 'update', urn: 'u', type: 't' }] } as never;
const gate = (g: Partial<GateResult>): GateResult => ({ gate: 'approvals', pass: true, reason: 'OK', details: { message: 'ok' }, ...g } as GateResult);
const run = (o: Partial<RunRecord>): RunRecord => ({
  id: 'r1', stack: 's', trigger: 'pull-request', dryRun: true, status: 'done', reasons: [], gates: [], counts: { create: 0, update: 1, replace: 0, delete: 0, same: 0 }, timings: { startedAt: '' }, holderId: 'h', decision: 'dry-run', ...o,
});

test('one stack: apply, needs approval (by whom), blocked (why), error, no change; and the conclusion', () => {
  const apply = stackPreviewOf({ run: run({ gates: [gate({})] }), preview: cs }, 'https://n/#/runs/r1');
  assert.equal([apply.verdict, apply.runId, apply.runUrl], ['apply', 'r1', 'https://n/#/runs/r1']);
  const hold = stackPreviewOf({ run: run({ reasons: ['APPROVAL_REQUIRED'], gates: [gate({ pass: false, hold: true, reason: 'APPROVAL_REQUIRED', details: { message: 'needs', requirements: [{ rule: 'roles', group: 'platform', approvers: 2, raisedBy: 'AUTHOR_UNKNOWN' }] } })] }), preview: cs });
  assert.equal([hold.verdict, hold.approvals], ['needs-approval', [{ rule: 'roles', group: 'platform', approvers: 2 }]]);
  const blocked = stackPreviewOf({ run: run({ gates: [gate({ gate: 'scope-guardrails', pass: false, reason: 'SCOPE_DENIED', details: { message: 'outside the allowed scopes' } }), gate({ pass: false, hold: true, reason: 'APPROVAL_REQUIRED' })] }), preview: cs });
  assert.equal([blocked.verdict, blocked.reasons, blocked.error], ['blocked', ['SCOPE_DENIED'], 'outside the allowed scopes']);
  const reportOnly = stackPreviewOf({ run: run({ decision: 'report-only', gates: [gate({ gate: 'preview-reliability', pass: false, reportOnly: true, reason: 'PREVIEW_UNRELIABLE' })] }), preview: cs });
  assert.is(reportOnly.verdict, 'blocked');
  const failed = stackPreviewOf({ run: run({ decision: 'failed', reasons: ['PREVIEW_FAILED'], error: 'boom' }) });
  assert.equal([failed.verdict, failed.error], ['error', 'boom']);
  const same = stackPreviewOf({ run: run({ decision: 'no-change' }), preview: { ...cs, changes: [] } });
  assert.is(same.verdict, 'no-change');
  const removed = removedStack('old');
  assert.equal([removed.verdict, removed.reasons], ['blocked', ['STACK_REMOVED']]);

  assert.is(conclusionOf([apply, same], false), 'success');
  assert.is(conclusionOf([apply, hold], false), 'neutral');
  assert.is(conclusionOf([hold, blocked], false), 'failure');
  assert.is(conclusionOf([failed], false), 'failure');
  assert.is(conclusionOf([removed], false), 'failure');
  assert.is(conclusionOf([], true), 'failure');
  assert.is(conclusionOf([], false), 'success');
});

test.run();

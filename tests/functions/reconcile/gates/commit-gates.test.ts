// The commit gates (GitOps): a run never applies a commit that does not descend from the stack's
// last applied one, and with signed commits required, every commit since then must verify.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CommitFacts } from '../../../../functions/reconcile/commit-facts.ts';
import { commitOrderGate } from '../../../../functions/reconcile/gates/commit-order.ts';
import { decide } from '../../../../functions/reconcile/decide.ts';
import { runGates } from '../../../../functions/reconcile/gates/index.ts';
import { signedCommitsGate } from '../../../../functions/reconcile/gates/signed-commits.ts';
import { changeSet, context, policyAssignment } from '../fixtures.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const cs = changeSet([policyAssignment('alz', 'a1')]);
const facts = (p: Partial<CommitFacts> = {}): CommitFacts => ({
  applied: A, commit: B, ancestry: 'ahead', truncated: false, requireSigned: false,
  commits: [{ sha: B, author: 'Bob <bob@contoso.com>' }], ...p,
});

test('outside GitOps both gates pass', () => {
  assert.equal([commitOrderGate(context(), cs).pass, signedCommitsGate(context(), cs).pass], [true, true]);
});

test('commit-order: ahead, identical and a first apply pass; behind and diverged are blocked, naming both commits', () => {
  for (const ancestry of ['ahead', 'identical'] as const) assert.ok(commitOrderGate(context({ commits: facts({ ancestry }) }), cs).pass, ancestry);
  assert.ok(commitOrderGate(context({ commits: facts({ applied: undefined }) }), cs).pass);
  for (const ancestry of ['behind', 'diverged'] as const) {
    const r = commitOrderGate(context({ commits: facts({ ancestry }) }), cs);
    assert.equal([r.pass, r.reason, r.hold], [false, 'COMMIT_NOT_DESCENDANT', undefined]);
    assert.match(r.details.message, new RegExp(`${B.slice(0, 12)} does not descend from ${A.slice(0, 12)}`));
  }
});

test('signed-commits: not required passes; an unsigned or untrusted commit blocks with UNSIGNED_COMMIT naming it and why', () => {
  assert.ok(signedCommitsGate(context({ commits: facts() }), cs).pass);
  const ok = facts({ requireSigned: true, commits: [{ sha: B, author: 'Bob', verdict: { ok: true, signer: 'bob@contoso.com' } }] });
  assert.ok(signedCommitsGate(context({ commits: ok }), cs).pass);
  const bad = facts({
    requireSigned: true,
    commits: [
      { sha: A, author: 'Ann <ann@contoso.com>', verdict: { ok: true } },
      { sha: B, author: 'Bob <bob@contoso.com>', verdict: { ok: false, reason: 'unknown-key', message: 'unknown key: the key SHA256:xyz is not an allowed signer' } },
    ],
  });
  const r = signedCommitsGate(context({ commits: bad }), cs);
  assert.equal([r.pass, r.reason], [false, 'UNSIGNED_COMMIT']);
  assert.match(r.details.message, new RegExp(`${B.slice(0, 12)} \\(Bob <bob@contoso.com>\\): unknown key`));
  assert.equal((r.details.commits as unknown[]).length, 1);
});

test('signed-commits: a truncated history cannot be verified, so it blocks', () => {
  const r = signedCommitsGate(context({ commits: facts({ requireSigned: true, truncated: true }) }), cs);
  assert.equal([r.pass, r.reason], [false, 'UNSIGNED_COMMIT']);
});

test('a failed commit gate blocks the run (not held for approval), even when a dry run', () => {
  const verdicts = runGates(context({ commits: facts({ ancestry: 'diverged' }) }), cs);
  const outcome = decide(cs, verdicts, { dryRun: false });
  assert.is(outcome.verdict, 'blocked');
  assert.ok(outcome.reasons.includes('COMMIT_NOT_DESCENDANT'));
});

test.run();

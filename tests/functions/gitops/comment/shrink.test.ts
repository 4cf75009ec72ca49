// The comment stays within its limit by shrinking in steps (diffs of the largest stacks, then all
// details, then findings, then rows) while the marker, headline, table and links stay; what no
// longer fits goes to the check's text. The size guarantee is property-tested with fast-check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { COMMENT_MARKER, CHECK_LIMIT, MIN_LIMIT, renderPreview } from '../../../../functions/gitops/comment/render.ts';
import type { ChangeSet, PropertyDiff, ResourceChange } from '../../../../stacks/engine/changeset.ts';
import type { Finding } from '../../../../stacks/compile/model.ts';
import type { GateResult } from '../../../../functions/reconcile/model.ts';
import type { PreviewReport, StackPreview } from '../../../../functions/gitops/types.ts';
import { change, changeSet, realistic, stack } from './fixtures.ts';
import { occurrences, structure } from './structure.ts';

const scopes = (n: number) => Array.from({ length: n }, (_, i) => `/subscriptions/${String(i).padStart(8, '0')}-0000-0000-0000-000000000000`);

/** The realistic report with one stack whose update carries a large list (about 7,000 characters of diff). */
function withBigStack(): PreviewReport {
  const report = realistic();
  report.stacks.push(stack({ stack: 'alz-big', verdict: 'apply', changeSet: changeSet('alz-big', [change({
    op: 'update', armId: '/providers/Microsoft.Management/managementGroups/alz-big/providers/Microsoft.Authorization/policyAssignments/Deny-All',
    diffs: [{ path: 'properties.notScopes', kind: 'update', old: [], new: scopes(120) }],
  })]) }));
  return report;
}

function assertWhole(comment: string, limit: number): void {
  assert.ok(comment.length <= limit, `${comment.length} > ${limit}`);
  assert.ok(comment.startsWith(`${COMMENT_MARKER}\n\n### `));
  assert.is(occurrences(comment, COMMENT_MARKER), 1);
  assert.equal(structure(comment).problems, []);
}

test('a preview that fits is not shrunk and carries no note', () => {
  const { comment } = renderPreview(withBigStack());
  assert.not.match(comment, 'nexus/preview check:');
  assert.match(comment, '+  "/subscriptions/00000119-0000-0000-0000-000000000000"');
});

test('step 1: the largest stack loses its diffs (its property names stay), the others keep theirs', () => {
  const full = renderPreview(withBigStack()).comment;
  const limit = 5_000;
  assert.ok(full.length > limit, `${full.length}`);
  const { comment, check } = renderPreview(withBigStack(), { limit });
  assertWhole(comment, limit);
  assert.match(comment, '*Full diffs are in the nexus/preview check: the whole preview would exceed this comment\'s 5,000 characters.*');
  const big = /<details><summary><b>alz-big<\/b>[\s\S]*?<\/details>/.exec(comment)?.[0];
  assert.ok(big, 'the big stack keeps its <details>');
  assert.match(big!, 'Changed: <code>properties.notScopes</code>');
  assert.not.match(big!, '```diff');
  assert.match(comment, '-"Audit"\n+"Deny"', 'a small stack keeps its diff');
  // The full diff is in the check's text.
  assert.match(check.text!, '+  "/subscriptions/00000119-0000-0000-0000-000000000000"');
});

test('step 2: when even the property names do not fit, every <details> moves to the check; table, headline and link stay', () => {
  const limit = 5_000;
  const report = withBigStack();
  report.stacks.push(stack({ stack: 'alz-wide', verdict: 'apply', changeSet: changeSet('alz-wide', Array.from({ length: 60 }, (_, i) => change({
    op: 'create', armId: `/providers/Microsoft.Management/managementGroups/alz-wide/providers/Microsoft.Authorization/policyAssignments/Assignment-${i}`,
  }))) }));
  const { comment, check } = renderPreview(report, { limit });
  assertWhole(comment, limit);
  assert.not.match(comment, '<details>');
  assert.match(comment, '*Details and full diffs are in the nexus/preview check: the whole preview would exceed this comment\'s 5,000 characters.*');
  assert.match(comment, '| alz-online | 0 | 0 | 0 | **1** |');
  assert.match(comment, '**No change** (3): alz-connectivity, alz-identity, alz-decommissioned');
  assert.match(comment, '[Open this preview in the Nexus portal](<http://127.0.0.1:7071/portal/runs/run-0001>)');
  assert.match(check.text!, '<details><summary><b>alz-big</b>');
  assert.match(check.text!, 'policyAssignments/Assignment-59</code>');
  assert.match(check.text!, '+  "/subscriptions/00000119-0000-0000-0000-000000000000"');
  assert.match(check.text!, '-"Audit"\n+"Deny"');
  assert.ok(check.text!.length <= CHECK_LIMIT);
});

test('step 3: findings beyond the first N, errors first, with how many more', () => {
  const report = realistic();
  const many: Finding[] = Array.from({ length: 400 }, (_, i) => ({
    severity: i % 3 === 0 ? 'error' : 'warning', file: `archetypes/a${i}.yaml`, path: `spec.policies[${i}]`, message: `finding number ${i}`,
  }));
  report.findings = many;
  const limit = 6_000;
  const { comment, check } = renderPreview(report, { limit });
  assertWhole(comment, limit);
  const more = /- … and (\d+) more \(see the nexus\/preview check\)/.exec(comment);
  assert.ok(more, 'says how many more');
  const shown = (comment.match(/^- \*\*(error|warning)\*\*/gm) ?? []).length;
  assert.is(shown + Number(more![1]), 400);
  assert.ok(shown > 0);
  assert.match(comment, '- **error** <code>archetypes/a0.yaml</code>');
  assert.not.match(comment, '- **warning**', 'the 134 errors come first and fill the room');
  assert.match(comment, '[Open this preview in the Nexus portal]');
  // The check's summary has room for all of them.
  assert.is((check.summary.match(/^- \*\*(error|warning)\*\*/gm) ?? []).length, 400);
});

function manyStacks(n: number): PreviewReport {
  const stacks: StackPreview[] = Array.from({ length: n }, (_, i) => stack({
    stack: `alz-sub-${String(i).padStart(5, '0')}`, verdict: i % 7 === 0 ? 'blocked' : 'apply',
    reasons: i % 7 === 0 ? ['BLAST_RADIUS'] : [],
    changeSet: changeSet(`s${i}`, Array.from({ length: 5 }, (_, j) => change({
      op: j === 0 && i % 5 === 0 ? 'delete' : 'update', armId: `/subscriptions/${i}/providers/Microsoft.Authorization/policyAssignments/p${j}`,
      diffs: [{ path: 'properties.parameters.effect.value', kind: 'update', old: 'Audit', new: 'Deny' }],
    }))),
  }));
  return { ...realistic(), stacks, unchanged: Array.from({ length: n }, (_, i) => `alz-unchanged-${i}`), findings: [] };
}

test('step 4: thousands of stacks: rows and folded names beyond the first N, with how many more', () => {
  const { comment, check } = renderPreview(manyStacks(5_000));
  assertWhole(comment, 65_536);
  assert.match(comment, /\| … and \d+ more stacks \(see the nexus\/preview check\) \| \| \| \| \| \|/);
  assert.match(comment, /\*\*No change\*\* \(5000\): (alz-unchanged-\d+, )*… and \d+ more|\*\*No change\*\* \(5000\): … and 5000 more/);
  // Deletes first: the first row is a stack with a delete.
  const first = comment.split('\n').find((l) => l.startsWith('| alz-sub-'))!;
  assert.match(first, '| alz-sub-00000 | 0 | 4 | 0 | **1** |');
  assert.ok(check.summary.length <= CHECK_LIMIT);
  assert.ok(check.text!.length <= CHECK_LIMIT);
  assert.match(check.text!, /\*Truncated to 65,535 characters: \d+ stacks left out; the run in the portal has everything\.\*$/);
  assert.equal(structure(check.text!).problems, []);
  assert.equal(structure(check.summary).problems, []);
});

test('worst case at MIN_LIMIT: every input text at its longest and most escaped, and the parts that always stay still fit', () => {
  const worst = (c: string) => c.repeat(5_000);
  const report: PreviewReport = {
    // `|` and `~` escape to the longest references (&#124;, &#126;).
    ...manyStacks(3_000), repo: worst('|'), commit: worst('|'), at: worst('~'), portalUrl: worst('|'), closedNote: worst('~'),
    findings: [{ severity: 'error', file: worst('|'), path: worst('|'), message: worst('|') }],
  };
  report.stacks.forEach((s) => { s.stack = worst('|'); });
  report.unchanged = report.unchanged.map(() => worst('~'));
  const { comment } = renderPreview(report, { limit: MIN_LIMIT });
  assertWhole(comment, MIN_LIMIT);
  // Nothing was cut blindly: the table header and the footer (the last part) are whole.
  assert.match(comment, '| Stack | Create | Update | Replace | Delete | Gates |');
  assert.match(comment, /\| … and 3000 more stacks \(see the nexus\/preview check\) \| \| \| \| \| \|/);
  assert.ok(comment.endsWith('&#126;&#126;…'), comment.slice(-60));
});

// ---- property: any report, any limit ≥ MIN_LIMIT ------------------------------------------------

const nasty = fc.constantFrom('`', '```', '````', '|', '<script>', COMMENT_MARKER, '</details>', '<details>', '\n', '\r', '\r\n',
  '\u202e', '\ud800', '\udc00', '😀', '&amp;', '$x$', '~~', '*_', '\\', '#', '[x](javascript:1)', '\u0000', ' ```diff\n');
const weird = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 3, arbitrary: fc.array(nasty, { maxLength: 8 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 120_000 }), nasty).map(([n, s]) => s.repeat(Math.ceil(n / s.length))) },
);
const value = fc.oneof({ weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 2, arbitrary: weird }, { weight: 1, arbitrary: fc.array(weird, { maxLength: 40 }) });
const ops: ResourceChange['op'][] = ['create', 'update', 'replace', 'delete', 'same', 'create-replacement', 'import'];
const diffArb: fc.Arbitrary<PropertyDiff> = fc.record({ path: weird, kind: fc.constantFrom('add', 'update', 'delete'), old: value, new: value }) as fc.Arbitrary<PropertyDiff>;
const changeArb: fc.Arbitrary<ResourceChange> = fc.record({
  op: fc.constantFrom(...ops), urn: weird, type: weird, armId: fc.option(weird, { nil: undefined }),
  changedKeys: fc.array(weird, { maxLength: 3 }), diffs: fc.array(diffArb, { maxLength: 4 }),
});
const changeSetArb: fc.Arbitrary<ChangeSet> = fc.tuple(fc.array(changeArb, { maxLength: 8 }), fc.array(weird, { maxLength: 3 })).map(([changes, msgs]) => ({
  ...changeSet('s', changes),
  diagnostics: msgs.map((message) => ({ severity: 'error' as const, message })),
  policyEvents: msgs.map((message) => ({ policyName: message, message, enforcementLevel: 'mandatory' })),
}));
const gateArb: fc.Arbitrary<GateResult> = fc.record({
  gate: fc.constantFrom('kill-switch', 'scope-guardrails', 'approvals'), pass: fc.boolean(), reason: weird, hold: fc.boolean(), details: fc.record({ message: weird }),
}) as fc.Arbitrary<GateResult>;
const stackArb: fc.Arbitrary<StackPreview> = fc.record({
  stack: weird,
  changeSet: fc.option(changeSetArb, { nil: undefined }),
  gates: fc.array(gateArb, { maxLength: 3 }),
  verdict: fc.constantFrom('apply', 'no-change', 'needs-approval', 'blocked', 'error'),
  approvals: fc.option(fc.array(fc.record({ rule: weird, group: weird, approvers: fc.integer({ min: -1, max: 5 }) }), { maxLength: 2 }), { nil: undefined }),
  reasons: fc.array(weird, { maxLength: 2 }),
  error: fc.option(weird, { nil: undefined }),
  drift: fc.option(changeSetArb, { nil: undefined }),
});
const findingArb: fc.Arbitrary<Finding> = fc.record({ severity: fc.constantFrom('error', 'warning', 'info'), file: weird, path: weird, message: weird, code: fc.option(weird, { nil: undefined }) });
const reportArb: fc.Arbitrary<PreviewReport> = fc.record({
  repo: weird, pr: fc.integer(), commit: fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), weird), compileFailed: fc.boolean(),
  findings: fc.array(findingArb, { maxLength: 30 }), stacks: fc.array(stackArb, { maxLength: 12 }), unchanged: fc.array(weird, { maxLength: 20 }),
  portalUrl: fc.option(fc.oneof(fc.webUrl(), weird), { nil: undefined }), closedNote: fc.option(weird, { nil: undefined }),
  conclusion: fc.constantFrom('success', 'neutral', 'failure'), at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), weird),
});

function assertBounded(report: PreviewReport, limit: number): void {
  const { comment, check } = renderPreview(report, { limit });
  assertWhole(comment, limit);
  assert.ok(check.title.length <= 255);
  assert.ok(check.summary.length <= CHECK_LIMIT);
  assert.equal(structure(check.summary).problems, []);
  if (check.text !== undefined) {
    assert.ok(check.text.length <= CHECK_LIMIT);
    assert.equal(structure(check.text).problems, []);
  }
}

test('property: for any report and any limit ≥ MIN_LIMIT the comment fits, keeps its marker once and its structure', () => {
  fc.assert(fc.property(reportArb, fc.integer({ min: MIN_LIMIT, max: 70_000 }), (report, limit) => assertBounded(report, limit)), { numRuns: 100 });
});

test('property: thousands of stacks and resources with huge values still fit', () => {
  const bulk = fc.record({ stacks: fc.integer({ min: 500, max: 3_000 }), value: weird, limit: fc.integer({ min: MIN_LIMIT, max: 70_000 }) });
  fc.assert(fc.property(bulk, ({ stacks, value: v, limit }) => {
    const report = manyStacks(stacks);
    report.stacks[0].stack = v;
    report.stacks[1].changeSet!.changes[0].diffs = [{ path: v, kind: 'update', old: v, new: `${v}!` }];
    report.findings = Array.from({ length: 200 }, () => ({ severity: 'error', file: v, path: v, message: v }));
    assertBounded(report, limit);
  }), { numRuns: 5 });
});

test.run();

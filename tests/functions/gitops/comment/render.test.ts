// The pull request comment for a realistic preview: what it holds, in which order, and that
// nothing from the input can break its structure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffString } from 'json-diff';
import { COMMENT_MARKER, renderPreview } from '../../../../functions/gitops/comment/render.ts';
import type { PreviewReport } from '../../../../functions/gitops/types.ts';
import { SHA, change, changeSet, realistic, stack } from './fixtures.ts';
import { occurrences, structure } from './structure.ts';

const tableRows = (md: string) => md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Stack'));
const rowStack = (row: string) => row.split('|')[1].trim();

test('the marker opens the comment and occurs exactly once; the headline follows', () => {
  const { comment } = renderPreview(realistic());
  assert.ok(comment.startsWith(`${COMMENT_MARKER}\n\n### ⛔ Nexus preview: blocked`), comment.slice(0, 120));
  assert.is(occurrences(comment, COMMENT_MARKER), 1);
  assert.equal(structure(comment).problems, []);
});

test('the commit it describes: short sha, full sha in code, and when', () => {
  const { comment } = renderPreview(realistic());
  assert.match(comment, `Commit **3f78685** (<code>${SHA}</code>) of github:contoso/landing-zones #42, previewed 2026-12-03 16:20 UTC.`);
});

test('the table puts replaces and deletes first, then errors, blocked, approvals, applies; unchanged stacks fold into one line', () => {
  const { comment } = renderPreview(realistic());
  assert.equal(tableRows(comment).map(rowStack), ['alz-online', 'alz-platform', 'alz-sandbox', 'alz-corp', 'alz-landing']);
  assert.match(comment, '| alz-online | 0 | 0 | 0 | **1** | ⛔ blocked: SCOPE&#95;DENIED — alz-online is outside the allowed scopes |');
  assert.match(comment, '| alz-platform | 0 | 0 | **1** | 0 | ⏸ needs approval by platform-owners ×2 |');
  assert.match(comment, '| alz-corp | 2 | 1 | 0 | 0 | ✅ apply |');
  // The error is shown with its text (one line in the cell, whole in the details).
  assert.match(comment, '| alz-sandbox | — | — | — | — | ❌ error: ARM returned 500 InternalServerError for GET');
  assert.match(comment, '```text\nARM returned 500 InternalServerError for GET /providers/Microsoft.Management/managementGroups/alz-sandbox\n  at request (arm.ts:42)\n```');
  assert.match(comment, '**No change** (3): alz-connectivity, alz-identity, alz-decommissioned');
  for (const folded of ['alz-connectivity', 'alz-identity', 'alz-decommissioned']) assert.not.ok(tableRows(comment).some((r) => rowStack(r) === folded));
  // The details follow the table's order.
  const summaries = [...comment.matchAll(/<details><summary><b>([^<]+)<\/b>/g)].map((m) => m[1]);
  assert.equal(summaries, ['alz-online', 'alz-platform', 'alz-sandbox', 'alz-corp', 'alz-landing', 'alz-decommissioned']);
});

test('each changed resource shows its op, ARM id and the json-diff of each changed property', () => {
  const { comment } = renderPreview(realistic());
  assert.match(comment, '**update** <code>/providers/Microsoft.Management/managementGroups/alz-corp/providers/Microsoft.Authorization/policyAssignments/Deny-Public-IP</code>');
  const blocks = structure(comment).blocks;
  const corp = blocks.find((b) => b.includes('properties.parameters.effect.value'));
  assert.ok(corp, 'the update has a diff block');
  assert.ok(corp!.includes(`@@ properties.parameters.effect.value (update) @@\n${diffString('Audit', 'Deny', { color: false })}`));
  const notScopes = diffString(['/providers/Microsoft.Management/managementGroups/alz-sandbox'],
    ['/providers/Microsoft.Management/managementGroups/alz-sandbox', '/providers/Microsoft.Management/managementGroups/alz-decommissioned'], { color: false, maxElisions: 3 });
  assert.ok(notScopes.includes('+  "/providers/Microsoft.Management/managementGroups/alz-decommissioned"'), notScopes);
  assert.ok(corp!.includes(notScopes));
  assert.ok(corp!.includes('+  version: {\n+    major: 2'), 'the nested added object is shown line by line');
  assert.ok(comment.includes('```diff\n@@ properties.policyType (update) @@\n-"BuiltIn"\n+"Custom"\n```'), 'the replace has its diff');
  // `same` resources are not listed.
  assert.not.match(comment, 'Unchanged-One');
});

test('findings errors first with severity, file, path and message; the drift already present; the portal link last', () => {
  const { comment } = renderPreview(realistic());
  const err = comment.indexOf('- **error** <code>archetypes/online.yaml</code> › <code>spec.parent</code>: parent alz-gone is not defined (unknown-parent)');
  const warn = comment.indexOf('- **warning** <code>archetypes/corp.yaml</code> › <code>spec.policies&#91;2&#93;.parameters.effect</code>: effect Deny blocks existing deployments');
  const info = comment.indexOf('- **info** library version 2025.09.1');
  assert.ok(err > 0 && err < warn && warn < info, `${err} ${warn} ${info}`);
  assert.match(comment, '**Drift already present** (1 resource differs from the last applied state)');
  assert.match(comment, '-"Default"\n+"DoNotEnforce"');
  assert.ok(comment.endsWith('[Open this preview in the Nexus portal](<http://127.0.0.1:7071/portal/runs/run-0001>)'), comment.slice(-200));
});

test('a closed pull request says queued previews were dropped, at the end', () => {
  const report = { ...realistic(), closedNote: 'This pull request was closed; queued previews were dropped.' };
  const { comment } = renderPreview(report);
  assert.ok(comment.endsWith('> ⚠️ This pull request was closed; queued previews were dropped.'), comment.slice(-200));
});

test('a resource named a|b<script> and a value holding ``` cannot break the table, the HTML or the fence', () => {
  const report = realistic();
  report.stacks.push(stack({ stack: 'x|y<script>alert(1)</script>`z`', verdict: 'apply', changeSet: changeSet('x', [change({ op: 'create', armId: '/a|b<img src=x onerror=alert(1)>' })]) }));
  const { comment, check } = renderPreview(report);
  for (const md of [comment, check.summary, check.text!]) {
    assert.equal(structure(md).problems, []);
    assert.not.match(md, '<script>');
    assert.not.match(md, '<img');
  }
  assert.match(comment, '| x&#124;y&#60;script&#62;alert(1)&#60;/script&#62;&#96;z&#96; | 1 | 0 | 0 | 0 | ✅ apply |');
  assert.match(comment, 'policyAssignments/a&#124;b&#60;script&#62;alert(1)&#60;/script&#62;</code>');
  // The value with ``` inside sits in a longer fence and comes out whole.
  assert.match(comment, '````diff\n@@ properties.description (update) @@\n-"plain"\n+"has ``` a fence\\n```\\n</details> and <b>html</b>"\n````');
  const fenceInside = structure(comment).blocks.find((b) => b.includes('has ``` a fence'));
  assert.ok(fenceInside);
});

test('raw newlines and fences in a value (a diffed key) stay inside their block', () => {
  const report = realistic();
  report.stacks.push(stack({ stack: 'keys', verdict: 'apply', changeSet: changeSet('keys', [change({
    op: 'update', armId: '/k', diffs: [{ path: 'p\n```\n# heading', kind: 'update', old: { 'a\n```\n<b>x</b>': 1 }, new: { 'a\n```\n<b>x</b>': 2 } }],
  })]) }));
  const { comment } = renderPreview(report);
  assert.equal(structure(comment).problems, []);
  assert.ok(structure(comment).blocks.some((b) => b.includes('<b>x</b>')), 'the key is shown raw inside the code block');
  assert.not.ok(structure(comment).prose.some((l) => l.startsWith('# heading')));
});

test('the marker inside a value is defused, so the comment is found by it only once', () => {
  const report = realistic();
  report.stacks[0].changeSet!.changes[2].diffs.push({ path: 'x', kind: 'add', new: `sneaky ${COMMENT_MARKER}` });
  report.findings.push({ severity: 'info', file: COMMENT_MARKER, path: '', message: COMMENT_MARKER });
  const { comment } = renderPreview(report);
  assert.is(occurrences(comment, COMMENT_MARKER), 1);
  assert.match(comment, 'sneaky <!-\u200b- nexus:preview -->');
});

test('an @mention in the input does not notify anyone', () => {
  const report = realistic();
  report.findings = [{ severity: 'warning', file: 'a.yaml', path: 'x', message: 'ask @contoso/platform-team or @octocat' }];
  const { comment } = renderPreview(report);
  assert.match(comment, 'ask @\u200Bcontoso/platform-team or @\u200Boctocat');
  assert.not.match(comment, /@[a-z]/i);
});

test('an unsafe portal URL is not linked', () => {
  const { comment } = renderPreview({ ...realistic(), portalUrl: 'javascript:alert(1)' });
  assert.not.match(comment, '](<javascript');
  assert.match(comment, 'Run in the Nexus portal: javascript:alert(1)');
});

test('headlines: does not compile, needs approval, would apply, no change', () => {
  const base: PreviewReport = { ...realistic(), stacks: [], unchanged: [], findings: [] };
  const failed = renderPreview({ ...base, compileFailed: true, findings: realistic().findings });
  assert.match(failed.comment, '### ❌ Nexus preview: does not compile (1 error)');
  assert.match(failed.comment, '- **error** <code>archetypes/online.yaml</code>');
  assert.is(failed.check.title, 'Does not compile: 1 error');
  assert.is(failed.check.text, undefined);

  const r = realistic();
  const approval = renderPreview({ ...base, stacks: [r.stacks[0], r.stacks[4]] });
  assert.match(approval.comment, '### ⏸ Nexus preview: needs approval — 1 needs approval, 1 to apply');
  assert.is(approval.check.title, '1 needs approval, 1 to apply');

  const apply = renderPreview({ ...base, stacks: [r.stacks[0], r.stacks[1]], unchanged: ['alz-identity'] });
  assert.match(apply.comment, '### ✅ Nexus would apply 2 stacks — 2 to apply, 1 unchanged');

  const failedPreview = renderPreview({ ...base, stacks: [r.stacks[0], r.stacks[2]] });
  assert.match(failedPreview.comment, '### ❌ Nexus preview: failed — 1 failed to preview, 1 to apply');

  const none = renderPreview({ ...base, unchanged: ['alz-identity'] });
  assert.match(none.comment, '### ✅ Nexus preview: no change — 1 unchanged');
  assert.is(none.check.title, '1 unchanged');
  assert.equal(structure(none.comment).problems, []);
});

test('the check: a short title, the table and headline in the summary, the details in the text', () => {
  const { comment, check } = renderPreview(realistic());
  assert.is(check.title, '1 failed to preview, 1 blocked, 1 needs approval, 2 to apply, 3 unchanged');
  assert.ok(check.summary.startsWith('### ⛔ Nexus preview: blocked'));
  assert.not.match(check.summary, COMMENT_MARKER);
  assert.not.match(check.summary, '<details>');
  assert.match(check.summary, '| alz-online | 0 | 0 | 0 | **1** |');
  assert.match(check.summary, '- **error** <code>archetypes/online.yaml</code>');
  assert.ok(check.text);
  // Every <details> block of the comment is in the text.
  for (const m of comment.matchAll(/<details>[\s\S]*?<\/details>/g)) assert.ok(check.text!.includes(m[0]));
});

test('the limit must leave room for what always stays', () => {
  assert.throws(() => renderPreview(realistic(), { limit: 100 }), /limit must be an integer/);
});

test.run();

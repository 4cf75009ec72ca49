// Pull request previews: the real compiler on commits of archetypes, the real lock-free preview
// through the engine into the ARM sandbox for the main path, a GitHost double that records the
// comment and checks, and a preview port that holds its previews to show cancellation and the
// shared concurrency bound.
import { test } from 'uvu';
import { GATE_NAMES } from '../../../functions/reconcile/gates/index.ts';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../../functions/platform/logger.ts';
import { PullRequestPreviews, CHECK_NAME, type PullRequestOutcome } from '../../../functions/gitops/pull-requests.ts';
import type { PreviewReport, PullRequestEvent } from '../../../functions/gitops/types.ts';
import type { PreviewOnlyRequest, PreviewOnlyResult } from '../../../functions/reconcile/preview-only.ts';
import { liveParts, releaseLive, type Live } from '../reconcile/live.ts';
import { mg } from '../reconcile/state-fixture.ts';
import { RecordingHost } from './helpers/recording-host.ts';
import { denyMoreInSandboxes, FolderCommits } from './helpers/folder-commits.ts';

const MARKER = '<!-- nexus:preview -->';
const silent = createLogger({ level: 'silent' });
let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

/** Stands in for comment/render.ts: the parts of the report the tests read, under the marker. */
function render(r: PreviewReport) {
  const body = { commit: r.commit, conclusion: r.conclusion, compileFailed: r.compileFailed, stacks: r.stacks.map((s) => [s.stack, s.verdict]), unchanged: r.unchanged.length, closedNote: r.closedNote, portalUrl: r.portalUrl };
  return { comment: `${MARKER}\n${JSON.stringify(body)}`, check: { title: `${r.stacks.length} stack(s)`, summary: r.conclusion } };
}
const bodyOf = (text: string) => JSON.parse(text.slice(MARKER.length + 1)) as ReturnType<typeof JSON.parse>;

let seq = 0;
const sha = (tag: string) => `${tag}${String(++seq).padStart(40 - tag.length, '0')}`;
const event = (number: number, o: Partial<PullRequestEvent>): PullRequestEvent => ({
  kind: 'pull_request', repo: 'github:contoso/landing-zones', number, action: 'opened', merged: false, draft: false,
  headSha: sha('a'), headRef: `feature-${number}`, baseRef: 'main', deliveryId: `d${++seq}`, ...o,
});

function setup(preview: (r: PreviewOnlyRequest) => Promise<PreviewOnlyResult>, concurrency = 2) {
  const host = new RecordingHost();
  const source = new FolderCommits(L.tenantRoot);
  const base = source.add(sha('b'));
  host.branches.set('main', base);
  host.commits = [{ sha: 'x', parents: [], author: { name: 'Mona', email: 'mona@contoso.com' }, committer: { name: 'Mona', email: 'mona@contoso.com' }, message: 'm', authorLogin: 'mona' }];
  const prs = new PullRequestPreviews({ host, source, preview, branch: 'main', concurrency, publicUrl: 'https://nexus.example', render, marker: MARKER, logger: silent });
  return { host, source, prs };
}

/** A preview port that holds each preview until released (or aborted), and counts how many run at once. */
function heldPreviews() {
  const pending: Array<{ req: PreviewOnlyRequest; release: () => void }> = [];
  const state = { active: 0, max: 0, calls: [] as PreviewOnlyRequest[], aborted: [] as PreviewOnlyRequest[] };
  const preview = (req: PreviewOnlyRequest) => new Promise<PreviewOnlyResult>((resolve) => {
    state.calls.push(req);
    state.active++;
    state.max = Math.max(state.max, state.active);
    const run = { id: `run-${state.calls.length}`, stack: req.stack, commit: req.commit, trigger: 'pull-request' as const, dryRun: true, status: 'done' as const, reasons: [] as string[], gates: [], counts: { create: 0, update: 1, replace: 0, delete: 0, same: 0 }, timings: { startedAt: '' }, holderId: 't' };
    const finish = (r: PreviewOnlyResult) => { state.active--; resolve(r); };
    req.signal?.addEventListener('abort', () => { state.aborted.push(req); finish({ run: { ...run, decision: 'interrupted', reasons: ['SUPERSEDED'] } }); }, { once: true });
    pending.push({ req, release: () => finish({ run: { ...run, decision: 'dry-run' }, preview: { stack: req.stack, kind: 'preview', changes: [{ op: 'update', urn: 'u', type: 't' }] } as never, drift: { stack: req.stack, kind: 'refresh-preview', changes: [] } as never }) });
  });
  const until = async (f: () => boolean) => { for (let i = 0; i < 400 && !f(); i++) await new Promise((r) => setTimeout(r, 10)); assert.ok(f(), 'condition reached'); };
  return { preview, state, pending, until, releaseAll: () => { for (const p of pending.splice(0)) p.release(); } };
}

test('opened: the real preview of exactly the stack the change touches; one comment, the check in progress then final; then edited, then closed', async () => {
  const rec = await L.reconciler(() => { throw new Error('previews are handed the state'); }, { scopes: { allow: { managementGroups: ['*'] } } });
  const { host, source, prs } = setup((r) => rec.previewOnly(r));
  const head = source.add(sha('h'), denyMoreInSandboxes);
  const out = await prs.handle(event(1, { headSha: head }));
  assert.is(out.outcome, 'posted', JSON.stringify(out));
  const posted = out as Extract<PullRequestOutcome, { outcome: 'posted' }>;
  assert.equal(posted.stacks, ['sandbox']);
  assert.is(posted.created, true);
  const checks = host.checksOf(1);
  assert.equal(checks.map((c) => [c.name, c.commit, c.conclusion]), [[CHECK_NAME, head, undefined], [CHECK_NAME, head, posted.conclusion]]);
  assert.is(checks[1].detailsUrl, `https://nexus.example/#/runs/${posted.runIds[0]}`);
  const body = bodyOf(host.commentsOf(1)[0].body);
  assert.equal(body.stacks.map((s: string[]) => s[0]), ['sandbox']);
  assert.is(body.stacks[0][1], { success: 'apply', neutral: 'needs-approval', failure: 'blocked' }[posted.conclusion], JSON.stringify(body));
  assert.ok(body.unchanged >= 10, 'the other stacks are folded as unchanged');
  // The run is recorded as a pull-request dry run; nothing was applied.
  const run = await L.stores.runs.get(posted.runIds[0]);
  assert.equal([run?.trigger, run?.dryRun, run?.commit, run?.stack], ['pull-request', true, head, 'sandbox']);
  assert.ok(run!.counts.create > 0, run?.error);
  assert.equal([run?.decision, run?.gates.length], ['dry-run', GATE_NAMES.length], 'the gates were judged as a dry run');
  assert.is(await L.exists(mg('sandbox')), false);

  // A push that changes no stack (a README edit): the same comment is edited, nothing previewed.
  const readme = source.add(sha('r'), (dir) => { denyMoreInSandboxes(dir); writeFileSync(join(dir, 'README.md'), 'changed'); });
  host.branches.set('main', head);
  const again = await prs.handle(event(1, { action: 'synchronize', headSha: readme }));
  assert.equal([again.outcome, (again as { stacks: string[] }).stacks, (again as { conclusion: string }).conclusion, (again as { created: boolean }).created], ['posted', [], 'success', false]);
  assert.is(host.commentsOf(1).length, 1);
  assert.is(host.commentsOf(1)[0].edits, 1);

  const closed = await prs.handle(event(1, { action: 'closed', merged: true, headSha: readme, mergeCommitSha: sha('m') }));
  assert.equal(closed, { outcome: 'dropped', pr: 1, commit: readme, merged: true, cancelled: false, noted: true });
  assert.is(host.commentsOf(1).length, 1);
  assert.match(bodyOf(host.commentsOf(1)[0].body).closedNote, /merged/);
});

test('synchronize while a preview runs: the older is cancelled and never posted; one comment, about the newer commit', async () => {
  const held = heldPreviews();
  const { host, source, prs } = setup(held.preview);
  const first = source.add(sha('h'), denyMoreInSandboxes);
  const second = source.add(sha('h'), (d) => { denyMoreInSandboxes(d); writeFileSync(join(d, 'nexus-sandbox.yaml'), readFileSync(join(d, 'nexus-sandbox.yaml'), 'utf8').replace('bastionhosts', 'applicationgateways')); });
  const older = prs.handle(event(2, { headSha: first }));
  await held.until(() => held.state.calls.length === 1);
  const newer = prs.handle(event(2, { action: 'synchronize', headSha: second }));
  assert.equal(await older, { outcome: 'superseded', pr: 2, commit: first });
  assert.equal(held.state.aborted.map((r) => r.commit), [first], 'the older preview was told to stop');
  await held.until(() => held.state.calls.length === 2);
  held.releaseAll();
  const out = await newer;
  assert.is(out.outcome, 'posted');
  assert.equal(host.commentsOf(2).map((c) => [bodyOf(c.body).commit, c.edits]), [[second, 0]]);
  // The older commit's check is finished as superseded, never with the older preview's verdict.
  assert.equal(host.checksOf(2).filter((c) => c.commit === first).map((c) => [c.conclusion, c.title]), [[undefined, 'Previewing'], ['neutral', 'Preview superseded']]);
  assert.equal(host.checksOf(2).filter((c) => c.commit === second).map((c) => c.conclusion), [undefined, 'success']);
});

test('closed while a preview is queued or running: dropped, its check closed, the comment notes it once', async () => {
  const held = heldPreviews();
  const { host, source, prs } = setup(held.preview, 1);
  const first = source.add(sha('h'), denyMoreInSandboxes);
  const p1 = prs.handle(event(3, { headSha: first }));
  await held.until(() => held.state.calls.length === 1);
  held.releaseAll();
  assert.is((await p1).outcome, 'posted');
  // Another pull request takes the only slot; pull request 3's next preview waits for it.
  const other = source.add(sha('h'), denyMoreInSandboxes);
  const busy = prs.handle(event(4, { headSha: other }));
  await held.until(() => held.state.calls.length === 2);
  const second = source.add(sha('h'), denyMoreInSandboxes);
  const queued = prs.handle(event(3, { action: 'synchronize', headSha: second }));
  await held.until(() => host.checksOf(3).some((c) => c.commit === second));
  const closed = await prs.handle(event(3, { action: 'closed', headSha: second }));
  assert.equal(closed, { outcome: 'dropped', pr: 3, commit: second, merged: false, cancelled: true, noted: true });
  assert.equal(await queued, { outcome: 'dropped', pr: 3, commit: second, merged: false, cancelled: true, noted: false });
  assert.is(held.state.calls.length, 2, 'the queued preview never started');
  assert.equal(host.commentsOf(3).length, 1);
  assert.match(bodyOf(host.commentsOf(3)[0].body).closedNote, /closed/);
  assert.is(bodyOf(host.commentsOf(3)[0].body).commit, first, 'the last posted preview, with the note');
  assert.equal(host.checksOf(3).filter((c) => c.commit === second).map((c) => [c.conclusion, c.title]), [[undefined, 'Previewing'], ['neutral', 'Preview dropped']]);
  held.releaseAll();
  assert.is((await busy).outcome, 'posted');
});

test('previews of many pull requests share the bound', async () => {
  const held = heldPreviews();
  const { host, source, prs } = setup(held.preview, 2);
  const runs = [5, 6, 7, 8].map((n) => prs.handle(event(n, { headSha: source.add(sha('h'), denyMoreInSandboxes) })));
  await held.until(() => held.state.calls.length === 2);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(held.state.calls.length, 2, 'two at a time');
  while (held.state.calls.length < 4 || held.pending.length > 0) {
    held.releaseAll();
    await new Promise((r) => setTimeout(r, 20));
  }
  const outs = await Promise.all(runs);
  assert.equal(outs.map((o) => o.outcome), ['posted', 'posted', 'posted', 'posted']);
  assert.is(held.state.max, 2);
  assert.is(host.comments.length, 4);
});

test('not for the tracked branch, another repository, drafts and other actions: ignored with the reason, nothing posted', async () => {
  const held = heldPreviews();
  const { host, prs } = setup(held.preview);
  const reasons = await Promise.all([
    prs.handle(event(9, { baseRef: 'release' })),
    prs.handle(event(9, { repo: 'github:contoso/other' })),
    prs.handle(event(9, { draft: true })),
    prs.handle(event(9, { action: 'edited' })),
  ]);
  assert.equal(reasons.map((r) => [r.outcome, (r as { reason: string }).reason]), [
    ['ignored', 'BASE_NOT_TRACKED'], ['ignored', 'UNKNOWN_REPOSITORY'], ['ignored', 'DRAFT'], ['ignored', 'ACTION_NOT_PREVIEWED'],
  ]);
  assert.equal([host.comments.length, host.checks.length, held.state.calls.length], [0, 0, 0]);
});

test('a head that does not compile: failure with the findings, no preview', async () => {
  const held = heldPreviews();
  const { host, source, prs } = setup(held.preview);
  const broken = source.add(sha('h'), (d) => writeFileSync(join(d, 'nexus-sandbox.yaml'), 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: [unclosed\n'));
  const out = await prs.handle(event(10, { headSha: broken }));
  assert.equal([out.outcome, (out as { conclusion: string }).conclusion], ['posted', 'failure']);
  assert.is(bodyOf(host.commentsOf(10)[0].body).compileFailed, true);
  assert.is(held.state.calls.length, 0);
});

test.run();

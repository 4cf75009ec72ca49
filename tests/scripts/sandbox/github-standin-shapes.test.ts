// The stand-in's webhook payloads carry every field the real GitHub payloads of
// @octokit/webhooks-examples carry (push, pull_request opened / synchronize / closed,
// pull_request_review submitted), at the levels Nexus and its parsers read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { startFixture, runGit, type Fixture } from './github-fixture.ts';

let fx: Fixture;
// Only GitHub Apps' deliveries name an installation; the stand-in's hook is a repository webhook.
const APP_ONLY = new Set(['installation']);

type Json = Record<string, unknown>;
function example(name: string, pred: (p: Json) => boolean): Json {
  const group = (examples as unknown as { name: string; examples: Json[] }[]).find((e) => e.name === name);
  const found = group?.examples.find(pred);
  if (!found) throw new Error(`no ${name} example`);
  return found;
}

function missingKeys(real: unknown, ours: unknown, path: string, out: string[]): void {
  if (!real || typeof real !== 'object' || Array.isArray(real)) return;
  if (!ours || typeof ours !== 'object') {
    out.push(`${path} (absent)`);
    return;
  }
  for (const k of Object.keys(real)) {
    if (APP_ONLY.has(k)) continue;
    if (!Object.hasOwn(ours, k)) out.push(`${path}.${k}`);
  }
}

function assertCovers(real: Json, ours: Json, label: string, nested: string[]) {
  const out: string[] = [];
  missingKeys(real, ours, label, out);
  for (const n of nested) {
    const get = (o: unknown) => n.split('.').reduce<unknown>((x, k) => (x as Json | undefined)?.[k], o);
    missingKeys(get(real), get(ours), `${label}.${n}`, out);
  }
  assert.equal(out, [], `fields GitHub sends and the stand-in does not: ${out.join(', ')}`);
}

test.before(async () => {
  fx = await startFixture();
});
test.after(async () => {
  await fx.stop();
});

test('push, pull_request and pull_request_review payloads have the fields of the real ones', async () => {
  const dir = await fx.clone('bob');
  await runGit(dir, ['checkout', '-qb', 'shapes']);
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'a']);
  await runGit(dir, ['push', '--quiet', 'origin', 'shapes']);
  const repo = { owner: 'contoso', repo: 'landing-zones' };
  const pr = await fx.octokit('bob').pulls.create({ ...repo, title: 'shapes', head: 'shapes', base: 'main' });
  writeFileSync(join(dir, 'b.txt'), 'b\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'b']);
  await runGit(dir, ['push', '--quiet', 'origin', 'shapes']);
  await fx.octokit('alice').pulls.createReview({ ...repo, pull_number: pr.data.number, event: 'APPROVE' });
  await fx.octokit('alice').pulls.merge({ ...repo, pull_number: pr.data.number });
  await fx.gh.idle();
  const ours = (event: string, action?: string) => {
    const r = fx.receiver.received.find((x) => x.event === event && (!action || x.payload.action === action));
    if (!r) throw new Error(`no ${event} ${action ?? ''} delivery`);
    return r.payload as Json;
  };
  const push = ours('push');
  assertCovers(example('push', (p) => Array.isArray(p.commits) && p.commits.length > 0), push, 'push', ['repository', 'repository.owner', 'sender', 'commits.0', 'head_commit', 'pusher']);
  for (const action of ['opened', 'synchronize', 'closed']) {
    assertCovers(example('pull_request', (p) => p.action === action), ours('pull_request', action), `pull_request ${action}`,
      ['pull_request', 'pull_request.head', 'pull_request.base', 'pull_request.user', 'repository', 'sender']);
  }
  assertCovers(example('pull_request_review', (p) => p.action === 'submitted'), ours('pull_request_review'), 'pull_request_review',
    ['review', 'review.user', 'pull_request', 'pull_request.head', 'repository']);
});

test.run();

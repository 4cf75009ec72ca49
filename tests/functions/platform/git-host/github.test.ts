// GitHubHost against a loopback server speaking GitHub's wire shapes (github-wire.ts): refs,
// commits with signatures, paginated compare, the streamed tarball and its safety checks, the one
// comment, the one check run, reviews, rate limits and GitHub App installation tokens.
import { mkdtemp, readFile, readdir, rm, lstat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveRefusedError } from '../../../../functions/platform/git-host/archive.ts';
import { GitHubHost } from '../../../../functions/platform/git-host/github.ts';
import { GitHostUnavailableError, GitRefNotFoundError } from '../../../../functions/platform/git-host/types.ts';
import { sha, startWire, tarball, type Wire } from './github-wire.ts';
import { rejection } from '../../../helpers/rejection.ts';

const REPO = { owner: 'contoso', repo: 'landing-zones' };
const LIMITS = { maxBytes: 1_000_000, maxFiles: 100 };
const TOP = 'contoso-landing-zones-abc1234';
const MARKER = '<!-- nexus:preview -->';

let wire: Wire;
let host: GitHubHost;
const dirs: string[] = [];
const freshDir = async () => { const d = await mkdtemp(join(tmpdir(), 'gh-adapter-')); dirs.push(d); return d; };

test.before(async () => {
  wire = await startWire({ commits: 130 });
  host = new GitHubHost(REPO, { baseUrl: wire.url, auth: { token: 'ghp_secret_token_value' } });
});
test.after(async () => {
  await wire.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('branchHead: the branch commit, undefined for a missing branch', async () => {
  assert.is(host.id, 'github:contoso/landing-zones');
  assert.is(await host.branchHead('main'), sha(130));
  assert.is(await host.branchHead('nope/feature'), undefined);
  assert.is(wire.requests.at(-1)!.auth, 'token ghp_secret_token_value');
  const elsewhere = new GitHubHost({ owner: 'contoso', repo: 'hidden' }, { baseUrl: wire.url, auth: { token: 'ghp_secret_token_value' } });
  const e = await rejection(elsewhere.branchHead('main'));
  assert.match(e.message, /GET \/repos\/contoso\/hidden\/branches\/main: 404 Not Found \(the repository does not exist, or the credentials cannot see it\)/);
});

test('commit: people, parents, login and the signature GitHub returns', async () => {
  const signed = await host.commit(sha(1));
  assert.equal(signed.parents, []);
  assert.equal(signed.author, { name: 'Author 1', email: 'a1@contoso.example', date: '2026-12-01T10:00:00Z' });
  assert.is(signed.authorLogin, 'user1');
  assert.is(signed.message, 'change 1');
  assert.match(signed.signed!.signature, /^-----BEGIN SSH SIGNATURE-----/);
  assert.match(signed.signed!.payload, /^tree /);
  const unsigned = await host.commit(sha(2));
  assert.equal(unsigned.parents, [sha(1)]);
  assert.is(unsigned.signed, undefined);
  const missing = await rejection(host.commit(sha(99999)));
  assert.instance(missing, GitRefNotFoundError);
});

test('compare: every page, oldest first, signatures filled; truncated past the limit', async () => {
  const all = await host.compare(sha(10), sha(130));
  assert.is(all.status, 'ahead');
  assert.is(all.commits.length, 120);
  assert.is(all.truncated, false);
  assert.is(all.commits[0].sha, sha(11));
  assert.is(all.commits[119].sha, sha(130));
  assert.ok(all.commits[0].signed, 'an odd-numbered (signed) commit carries its signature');
  assert.is(all.commits[1].signed, undefined);
  assert.ok(wire.requests.filter((r) => r.path.includes('/compare/')).length >= 2, 'paginated');
  const cut = await host.compare(sha(10), sha(130), 50);
  assert.is(cut.commits.length, 50);
  assert.is(cut.truncated, true);
  assert.is((await host.compare(sha(5), sha(5))).status, 'identical');
  assert.instance(await rejection(host.compare(sha(5), sha(99999))), GitRefNotFoundError);
});

test('download: the files under path, GitHub\'s top folder stripped, through the redirect', async () => {
  wire.tarballs.set(sha(130), tarball(sha(130), [
    { path: `${TOP}/`, type: 'Directory' },
    { path: `${TOP}/README.md`, body: '# landing zones\n' },
    { path: `${TOP}/archetypes/`, type: 'Directory' },
    { path: `${TOP}/archetypes/corp.yaml`, body: 'name: corp\n' },
    { path: `${TOP}/archetypes/nested/online.yaml`, body: 'name: online\n' },
    { path: `${TOP}/archetypes/alias.yaml`, type: 'SymbolicLink', linkpath: 'corp.yaml' },
    { path: `${TOP}/archetypes/to-dir`, type: 'SymbolicLink', linkpath: 'nested' },
  ]));
  const all = await freshDir();
  assert.equal(await host.download(sha(130), '', all, LIMITS), { files: 4, bytes: 16 + 11 + 13 + 11 });
  assert.is(await readFile(join(all, 'README.md'), 'utf8'), '# landing zones\n');
  const sub = await freshDir();
  const r = await host.download(sha(130), 'archetypes', sub, LIMITS);
  assert.is(r.files, 3);
  assert.equal((await readdir(sub)).sort(), ['alias.yaml', 'corp.yaml', 'nested']);
  assert.is(await readFile(join(sub, 'nested/online.yaml'), 'utf8'), 'name: online\n');
  // A link inside the folder becomes a copy; no link is ever created on disk.
  assert.ok((await lstat(join(sub, 'alias.yaml'))).isFile());
  assert.is(await readFile(join(sub, 'alias.yaml'), 'utf8'), 'name: corp\n');
  assert.ok(wire.requests.some((q) => q.path.startsWith('/_codeload/')), 'the redirect was followed');
});

for (const [name, evil] of [
  ['a ../ path', { path: `${TOP}/../x`, body: 'pwned' }],
  ['an absolute path', { path: '/etc/y', body: 'pwned' }],
  ['a symlink to /', { path: `${TOP}/root`, type: 'SymbolicLink', linkpath: '/' }],
  ['a symlink climbing out', { path: `${TOP}/archetypes/up`, type: 'SymbolicLink', linkpath: '../../../etc/passwd' }],
  ['a hard link leaving the folder', { path: `${TOP}/archetypes/h`, type: 'Link', linkpath: `${TOP}/README.md` }],
] as const) {
  test(`download refuses ${name} and leaves nothing`, async () => {
    const ref = sha(5000 + name.length);
    wire.tarballs.set(ref, tarball(ref, [
      { path: `${TOP}/README.md`, body: 'x' },
      { path: `${TOP}/archetypes/corp.yaml`, body: 'name: corp\n' },
      evil,
      { path: `${TOP}/archetypes/z.yaml`, body: 'z' },
    ]));
    const dir = await freshDir();
    const e = await rejection(host.download(ref, 'archetypes', dir, LIMITS));
    assert.instance(e, ArchiveRefusedError);
    assert.match(e.message, /github:contoso\/landing-zones at [0-9a-f]+: entry/);
    assert.equal(await readdir(dir), [], 'nothing half-written');
    assert.not.match(e.message, /ghp_secret/);
  });
}

test('download refuses archives over the limits while streaming, and leaves nothing', async () => {
  const many = sha(6001);
  wire.tarballs.set(many, tarball(many, Array.from({ length: 12 }, (_, i) => ({ path: `${TOP}/f${i}.yaml`, body: 'a: 1\n' }))));
  const dir = await freshDir();
  const tooMany = await rejection(host.download(many, '', dir, { maxBytes: 1_000_000, maxFiles: 10 }));
  assert.instance(tooMany, ArchiveRefusedError);
  assert.match(tooMany.message, /files over the limit of 10/);
  assert.equal(await readdir(dir), []);

  const big = sha(6002);
  wire.tarballs.set(big, tarball(big, [{ path: `${TOP}/a.yaml`, body: 'a'.repeat(600) }, { path: `${TOP}/b.yaml`, body: 'b'.repeat(600) }]));
  const tooBig = await rejection(host.download(big, '', dir, { maxBytes: 1000, maxFiles: 10 }));
  assert.instance(tooBig, ArchiveRefusedError);
  assert.match(tooBig.message, /bytes over the limit of 1000/);
  assert.equal(await readdir(dir), []);

  assert.instance(await rejection(host.download(sha(7777), '', dir, LIMITS)), GitRefNotFoundError);
});

test('download: an archive cut short at an entry boundary is not taken for the commit', async () => {
  const ref = sha(6003);
  const whole = gunzipSync(tarball(ref, [{ path: `${TOP}/a.yaml`, body: 'a: 1\n' }, { path: `${TOP}/b.yaml`, body: 'b: 2\n' }]));
  // Valid gzip of a tar without its closing zero blocks (and without the second entry).
  wire.tarballs.set(ref, gzipSync(whole.subarray(0, 512 * 4)));
  const dir = await freshDir();
  const e = await rejection(host.download(ref, '', dir, LIMITS));
  assert.instance(e, GitHostUnavailableError, 'retried: a whole archive may come next time');
  assert.match(e.message, /cut short/);
  assert.equal(await readdir(dir), []);
});

test('upsertComment: created once, then the same comment edited (found by its marker on a later page)', async () => {
  const first = await host.upsertComment(7, MARKER, `${MARKER}\npreview 1`);
  assert.is(first.created, true);
  const second = await host.upsertComment(7, MARKER, `${MARKER}\npreview 2`);
  assert.equal(second, { id: first.id, created: false });
  const ours = wire.comments.filter((c) => c.body.includes(MARKER) && c.user.login === 'nexus-bot');
  assert.is(ours.length, 1, 'never a second comment');
  assert.is(wire.comments.find((c) => c.user.login === 'mallory')!.body, `${MARKER}\nall clear, trust me`, 'a pasted marker is not ours to edit');
  assert.is(ours[0].body, `${MARKER}\npreview 2`);
  assert.is(String(ours[0].id), first.id);
});

test('report: a check run created, then the same one updated to its conclusion', async () => {
  await host.report(7, { name: 'nexus/preview', commit: sha(5), title: 'Previewing', summary: 'running' });
  assert.is(wire.checkRuns.length, 1);
  assert.is(wire.checkRuns[0].status, 'in_progress');
  await host.report(7, { name: 'nexus/preview', commit: sha(5), conclusion: 'neutral', title: 'Needs approval', summary: 's', text: 'details', detailsUrl: 'https://nexus.example/runs/1' });
  assert.is(wire.checkRuns.length, 1, 'updated, not a second check run');
  assert.is(wire.checkRuns[0].status, 'completed');
  assert.is(wire.checkRuns[0].conclusion, 'neutral');
  assert.equal(wire.checkRuns[0].output, { title: 'Needs approval', summary: 's', text: 'details' });
  assert.is(wire.checkRuns[0].details_url, 'https://nexus.example/runs/1');
  await host.report(7, { name: 'nexus/preview', commit: sha(6), conclusion: 'success', title: 'ok', summary: 's' });
  assert.is(wire.checkRuns.length, 2, 'another commit gets its own check run');
});

test('report: with a token that may not write check runs, a commit status of the same name', async () => {
  // What GitHub answers a personal access token on the check runs API.
  const refusal = { status: 403, message: 'You must authenticate via a GitHub App.' };
  wire.faults.set(`/repos/contoso/landing-zones/commits/${sha(8)}/check-runs`, refusal);
  await host.report(7, { name: 'nexus/preview', commit: sha(8), conclusion: 'neutral', title: 'Needs approval by platform-owners', summary: 's', detailsUrl: 'https://nexus.example/runs/2' });
  await host.report(7, { name: 'nexus/preview', commit: sha(8), conclusion: 'failure', title: 'x'.repeat(200), summary: 's' });
  wire.faults.clear();
  assert.equal(wire.statuses.map((st) => [st.sha, st.context, st.state]), [[sha(8), 'nexus/preview', 'pending'], [sha(8), 'nexus/preview', 'failure']]);
  assert.is(wire.statuses[0].target_url, 'https://nexus.example/runs/2');
  assert.is(String(wire.statuses[1].description).length, 140);
});

test('pullRequest and reviews', async () => {
  assert.equal(await host.pullRequest(7), {
    number: 7, state: 'merged', draft: false, headRef: 'feature/x', baseRef: 'main', headSha: sha(4), mergeCommitSha: sha(5),
    title: 'Add a subscription', url: 'https://github.com/contoso/landing-zones/pull/7',
  });
  assert.equal(await host.reviews(7), [
    { login: 'alice', state: 'approved', commit: sha(5), at: '2026-12-01T11:00:00Z' },
    { login: 'bob', state: 'changes_requested', commit: sha(4), at: '2026-12-01T11:01:00Z' },
  ]);
  const e = await rejection(host.pullRequest(8));
  assert.not.instance(e, GitRefNotFoundError);
  assert.match(e.message, /GET \/repos\/contoso\/landing-zones\/pulls\/8: 404/);
});

test('rate limits, outages and refusals', async () => {
  const reset = Math.floor(Date.now() / 1000) + 120;
  wire.faults.set(`/repos/contoso/landing-zones/commits/${sha(1)}`, { status: 403, message: 'API rate limit exceeded', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } });
  const limited = await rejection(host.commit(sha(1)));
  assert.instance(limited, GitHostUnavailableError);
  const wait = (limited as GitHostUnavailableError).retryAfterSeconds!;
  assert.ok(wait > 100 && wait <= 121, `retry after ${wait}s`);

  wire.faults.set(`/repos/contoso/landing-zones/commits/${sha(1)}`, { status: 403, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '30' } });
  assert.is(((await rejection(host.commit(sha(1)))) as GitHostUnavailableError).retryAfterSeconds, 30);

  wire.faults.set(`/repos/contoso/landing-zones/commits/${sha(1)}`, { status: 429, message: 'Too Many Requests', headers: { 'retry-after': '7' } });
  const tooMany = await rejection(host.commit(sha(1)));
  assert.instance(tooMany, GitHostUnavailableError);
  assert.is((tooMany as GitHostUnavailableError).retryAfterSeconds, 7);

  wire.faults.set(`/repos/contoso/landing-zones/commits/${sha(1)}`, { status: 502, message: 'Server Error' });
  assert.instance(await rejection(host.commit(sha(1))), GitHostUnavailableError);

  wire.faults.set(`/repos/contoso/landing-zones/commits/${sha(1)}`, { status: 403, message: 'Resource not accessible by integration' });
  const refused = await rejection(host.commit(sha(1)));
  assert.not.instance(refused, GitHostUnavailableError);
  assert.match(refused.message, /GET \/repos\/contoso\/landing-zones\/commits\/a+1: 403 Resource not accessible/);
  wire.faults.clear();

  for (const e of [limited, tooMany, refused]) assert.not.match(`${e.message} ${e.stack}`, /ghp_secret/);

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const down = new GitHubHost(REPO, { baseUrl: `http://127.0.0.1:${port}`, auth: { token: 'ghp_secret_token_value' } });
  const unreachable = await rejection(down.branchHead('main'));
  assert.instance(unreachable, GitHostUnavailableError);
  assert.match(unreachable.message, /ECONNREFUSED/);
});

test('GitHub App: an installation token minted with a signed JWT, then used for every call', async () => {
  const app = await startWire({ app: true });
  try {
    let fetched = 0;
    const counting: typeof fetch = (input, init) => { fetched++; return fetch(input, init); };
    const withId = new GitHubHost(REPO, { baseUrl: app.url, fetch: counting, auth: { app: { appId: app.app!.appId, privateKey: app.app!.privateKey, installationId: '77' } } });
    assert.is(await withId.branchHead('main'), sha(5));
    assert.is(fetched, 2, 'the token request and the call, both through the given fetch');
    assert.throws(() => new GitHubHost(REPO, { auth: { app: { appId: 1, privateKey: 'k', installationId: 'x7' } } }), /installation id must be a positive integer, got 'x7'/);
    const mint = app.requests.find((r) => r.path === '/app/installations/77/access_tokens')!;
    assert.match(mint.auth!, /^bearer ey/i, 'the token request carries the App JWT');
    const repoCalls = app.requests.filter((r) => r.path.startsWith('/repos/'));
    assert.ok(repoCalls.length > 0);
    for (const r of repoCalls) assert.match(r.auth!, /^(token|bearer) ghs_installation_token_x$/i);

    // The App's comments are found as <slug>[bot] (GET /app, signed with the JWT), not by the marker alone.
    const c1 = await withId.upsertComment(7, MARKER, `${MARKER}\none`);
    const c2 = await withId.upsertComment(7, MARKER, `${MARKER}\ntwo`);
    assert.equal([c1.created, c2.created, c2.id], [true, false, c1.id]);
    assert.is(app.comments.find((c) => c.user.login === 'mallory')!.body, `${MARKER}\nall clear, trust me`);

    // Its check run is its own: another App's run of the same name is not touched.
    app.checkRuns.push({ id: 5, app: { id: 999, slug: 'other' }, name: 'nexus/preview', head_sha: sha(5), status: 'completed', conclusion: 'success', output: {} });
    await withId.report(7, { name: 'nexus/preview', commit: sha(5), title: 'Previewing', summary: 's' });
    await withId.report(7, { name: 'nexus/preview', commit: sha(5), conclusion: 'failure', title: 'Blocked', summary: 's' });
    assert.equal(app.checkRuns.map((r) => [r.app.id, r.status, r.conclusion]), [[999, 'completed', 'success'], [4242, 'completed', 'failure']]);

    // Without an installation id: looked up as the App, then the same.
    app.requests.length = 0;
    const lookup = new GitHubHost(REPO, { baseUrl: app.url, auth: { app: { appId: app.app!.appId, privateKey: app.app!.privateKey } } });
    assert.is((await lookup.commit(sha(2))).sha, sha(2));
    assert.equal(app.requests.map((r) => r.path), ['/repos/contoso/landing-zones/installation', '/app/installations/77/access_tokens', `/repos/contoso/landing-zones/commits/${sha(2)}`]);

    // A key the server does not know: no token, a plain refusal naming the request.
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const wrong = new GitHubHost(REPO, { baseUrl: app.url, auth: { app: { appId: app.app!.appId, privateKey: other, installationId: 77 } } });
    const e = await rejection(wrong.branchHead('main'));
    assert.not.instance(e, GitHostUnavailableError);
    assert.match(e.message, /401/);
    assert.not.match(e.message, /PRIVATE KEY/);
  } finally {
    await app.close();
  }
});

test.run();

// The GitHub stand-in's REST routes, driven through the real @octokit/rest client: repositories and
// refs, commits with the signature and signed payload of an SSH-signed commit (checked with
// ssh-keygen -Y verify), compare with pagination, the tarball, auth and the rate-limit hook.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startFixture, runGit, type Fixture } from './github-fixture.ts';

let fx: Fixture;

test.before(async () => {
  fx = await startFixture();
});
test.after(async () => {
  await fx.stop();
});

const repo = { owner: 'contoso', repo: 'landing-zones' };

test('repository, branch and ref read as GitHub shapes them', async () => {
  const o = fx.octokit();
  const r = await o.repos.get(repo);
  assert.is(r.data.full_name, 'contoso/landing-zones');
  assert.is(r.data.default_branch, 'main');
  const b = await o.repos.getBranch({ ...repo, branch: 'main' });
  const ref = await o.git.getRef({ ...repo, ref: 'heads/main' });
  assert.is(ref.data.ref, 'refs/heads/main');
  assert.is(ref.data.object.sha, b.data.commit.sha);
  assert.is(b.data.commit.commit.author?.email, 'alice@contoso.com', 'the seed commit is by a seeded user');
  assert.is(b.data.commit.author?.login, 'alice');
  const file = (await o.repos.getContent({ ...repo, path: 'corp/archetype.json', ref: b.data.commit.sha })).data as { type: string; content: string; encoding: string };
  assert.equal([file.type, file.encoding], ['file', 'base64']);
  assert.equal(JSON.parse(Buffer.from(file.content, 'base64').toString('utf8')), { name: 'corp', policies: [] });
  const root = (await o.repos.getContent({ ...repo, path: '' })).data as { name: string; type: string }[];
  assert.equal(root.map((e) => [e.name, e.type]), [['README.md', 'file'], ['corp', 'dir']]);
  const folder = (await o.repos.getContent({ ...repo, path: 'corp' })).data as { path: string }[];
  assert.equal(folder.map((e) => e.path), ['corp/archetype.json']);
  const escape = await o.repos.getContent({ ...repo, path: 'corp/../README.md' }).then(() => 0, (e) => e.status);
  assert.is(escape, 404);
  const missing = await o.git.getRef({ ...repo, ref: 'heads/nope' }).then(() => 0, (e) => e.status);
  assert.is(missing, 404);
  const unknown = await o.repos.get({ owner: 'contoso', repo: 'nope' }).then(() => 0, (e) => e.status);
  assert.is(unknown, 404);
});

test('an SSH-signed commit: git/commits gives payload and signature that rebuild the object and verify', async () => {
  const keys = mkdtempSync(join(tmpdir(), 'gh-standin-key-'));
  const key = join(keys, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@contoso.com', '-f', key]);
  const dir = await fx.clone('alice');
  const base = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  writeFileSync(join(dir, 'signed.txt'), 'signed\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}.pub`, 'commit', '-S', '-qm', 'a signed change\n\nwith a body']);
  writeFileSync(join(dir, 'unsigned.txt'), 'u\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'an unsigned change']);
  await runGit(dir, ['push', '--quiet', 'origin', 'main']);
  const signed = (await runGit(dir, ['rev-parse', 'HEAD~1'])).trim();
  const head = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  const raw = await runGit(dir, ['cat-file', 'commit', signed]);

  const o = fx.octokit();
  const c = (await o.git.getCommit({ ...repo, commit_sha: signed })).data;
  assert.is(c.sha, signed);
  assert.is(c.message, 'a signed change\n\nwith a body');
  assert.is(c.parents[0].sha, base);
  const v = c.verification as { verified: boolean; reason: string; signature: string; payload: string };
  assert.is(v.verified, false);
  assert.is(v.reason, 'unknown_key');
  assert.match(v.signature, /^-----BEGIN SSH SIGNATURE-----\n[\s\S]+-----END SSH SIGNATURE-----\n$/);
  // The signed object is the payload with the gpgsig header put back after the committer line.
  const [headers, ...rest] = v.payload.split('\n\n');
  const rebuilt = `${headers}\ngpgsig ${v.signature.replace(/\n$/, '').split('\n').join('\n ')}\n\n${rest.join('\n\n')}`;
  assert.is(rebuilt, raw);
  const allowed = join(keys, 'allowed_signers');
  writeFileSync(allowed, `alice@contoso.com ${readFileSync(`${key}.pub`, 'utf8')}`);
  writeFileSync(join(keys, 'sig'), v.signature);
  const out = execFileSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'alice@contoso.com', '-n', 'git', '-s', join(keys, 'sig')], { input: v.payload }).toString();
  assert.match(out, /Good "git" signature/);

  const unsigned = (await o.git.getCommit({ ...repo, commit_sha: head })).data.verification as { reason: string; signature: unknown; payload: unknown };
  assert.equal([unsigned.reason, unsigned.signature, unsigned.payload], ['unsigned', null, null]);

  const cmp = (await o.repos.compareCommitsWithBasehead({ ...repo, basehead: `${base}...main` })).data;
  assert.is(cmp.status, 'ahead');
  assert.equal([cmp.ahead_by, cmp.behind_by, cmp.total_commits], [2, 0, 2]);
  assert.equal(cmp.commits.map((x) => x.sha), [signed, head], 'oldest first');
  assert.is((cmp.commits[0].commit.verification as { payload: string }).payload, v.payload);
  assert.equal(cmp.files?.map((f) => f.filename).sort(), ['signed.txt', 'unsigned.txt']);
  const back = (await o.repos.compareCommitsWithBasehead({ ...repo, basehead: `main...${base}` })).data;
  assert.equal([back.status, back.ahead_by, back.behind_by], ['behind', 0, 2]);
  const same = (await o.repos.compareCommitsWithBasehead({ ...repo, basehead: 'main...main' })).data;
  assert.is(same.status, 'identical');

  const page1 = await o.repos.compareCommitsWithBasehead({ ...repo, basehead: `${base}...main`, per_page: 1 });
  assert.is(page1.data.commits.length, 1);
  assert.match(String(page1.headers.link), /rel="next"/);
  const page2 = await o.repos.compareCommitsWithBasehead({ ...repo, basehead: `${base}...main`, per_page: 1, page: 2 });
  assert.is(page2.data.commits[0].sha, head);

  const rc = (await o.repos.getCommit({ ...repo, ref: signed })).data;
  assert.is(rc.sha, signed);
  assert.is(rc.author?.login, 'alice');
  assert.equal(rc.files?.map((f) => [f.filename, f.status]), [['signed.txt', 'added']]);
});

test('compare of diverged branches', async () => {
  const dir = await fx.clone('bob');
  await runGit(dir, ['checkout', '-qb', 'side']);
  writeFileSync(join(dir, 'side.txt'), 's\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'side']);
  await runGit(dir, ['push', '--quiet', 'origin', 'side']);
  await runGit(dir, ['checkout', '-q', 'main']);
  writeFileSync(join(dir, 'main.txt'), 'm\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'main moves']);
  await runGit(dir, ['push', '--quiet', 'origin', 'main']);
  const cmp = (await fx.octokit().repos.compareCommitsWithBasehead({ ...repo, basehead: 'main...side' })).data;
  assert.equal([cmp.status, cmp.ahead_by, cmp.behind_by], ['diverged', 1, 1]);
  assert.equal(cmp.files?.map((f) => f.filename), ['side.txt'], 'files are from the merge base');
});

test('tarball: gzip tar under <owner>-<repo>-<shortsha>/', async () => {
  const o = fx.octokit();
  const sha = (await o.repos.getBranch({ ...repo, branch: 'main' })).data.commit.sha;
  const res = await o.repos.downloadTarballArchive({ ...repo, ref: sha });
  const tar = gunzipSync(Buffer.from(res.data as ArrayBuffer));
  const names: string[] = [];
  for (let off = 0; off + 512 <= tar.length; off += 512) {
    const name = tar.subarray(off, off + 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(tar[off + 156]);
    if (type === '0' || type === '5') names.push(name);
    off += Math.ceil(size / 512) * 512;
  }
  const top = `contoso-landing-zones-${sha.slice(0, 7)}/`;
  assert.ok(names.length > 0 && names.every((n) => n.startsWith(top)), `every entry is under ${top}: ${names.join(', ')}`);
  assert.ok(names.includes(`${top}corp/archetype.json`));
});

test('no token or a bad one: 401; the rate-limit hook answers 403 / 429 with retry-after', async () => {
  const anon = await fetch(`${fx.gh.apiUrl}/repos/contoso/landing-zones`);
  assert.is(anon.status, 401);
  const bad = await fetch(`${fx.gh.apiUrl}/repos/contoso/landing-zones`, { headers: { authorization: 'token nope' } });
  assert.is(bad.status, 401);
  assert.is((await bad.json()).message, 'Bad credentials');
  const bearer = await fetch(`${fx.gh.apiUrl}/repos/contoso/landing-zones`, { headers: { authorization: `Bearer ${fx.gh.token}` } });
  assert.is(bearer.status, 200);

  const o = fx.octokit();
  fx.gh.failNext({ count: 2, status: 403, retryAfter: 7 });
  for (let i = 0; i < 2; i++) {
    const e = await o.repos.get(repo).then(() => undefined, (x) => x);
    assert.is(e?.status, 403);
    assert.is(e?.response?.headers['retry-after'], '7');
    assert.is(e?.response?.headers['x-ratelimit-remaining'], '0');
  }
  assert.is((await o.repos.get(repo)).status, 200, 'only the next N requests fail');
  fx.gh.failNext({ count: 1, status: 429, retryAfter: 1 });
  const e = await o.repos.get(repo).then(() => undefined, (x) => x);
  assert.is(e?.status, 429);
  assert.is(e?.response?.headers['retry-after'], '1');

  // The same hook over HTTP, for a stand-in in another process (main token only).
  const door = (token: string, body: unknown) => fetch(`${fx.gh.url}/_standin/fail-next`, { method: 'POST', headers: { authorization: `token ${token}` }, body: JSON.stringify(body) });
  assert.is((await door(fx.gh.tokenFor('alice'), { count: 1 })).status, 403);
  const badCount = await door(fx.gh.token, { count: -1 });
  assert.is(badCount.status, 422);
  assert.is((await badCount.json()).errors[0].field, 'count');
  assert.is((await door(fx.gh.token, { count: 1, status: 429, retryAfter: 3 })).status, 204);
  const e2 = await o.repos.get(repo).then(() => undefined, (x) => x);
  assert.equal([e2?.status, e2?.response?.headers['retry-after']], [429, '3']);
  assert.is((await o.repos.get(repo)).status, 200);
});

test('bad input: 422 naming the field, 400 for JSON that does not parse, 404 for unknown routes', async () => {
  const post = (path: string, body: string) =>
    fetch(`${fx.gh.apiUrl}${path}`, { method: 'POST', headers: { authorization: `token ${fx.gh.token}`, 'content-type': 'application/json' }, body });
  const r1 = await post('/repos/contoso/landing-zones/pulls', JSON.stringify({ title: 't', base: 'main' }));
  assert.is(r1.status, 422);
  assert.is((await r1.json()).errors[0].field, 'head');
  const r2 = await post('/repos/contoso/landing-zones/pulls', '{nope');
  assert.is(r2.status, 400);
  const r3 = await post('/repos/contoso/landing-zones/check-runs', JSON.stringify({ name: 'nexus/preview', head_sha: 'f'.repeat(40) }));
  assert.is(r3.status, 422);
  assert.is((await r3.json()).errors[0].field, 'head_sha');
  const r4 = await fetch(`${fx.gh.apiUrl}/repos/contoso/landing-zones/nothing-here`, { headers: { authorization: `token ${fx.gh.token}` } });
  assert.is(r4.status, 404);
  for (const path of ['commits/%E0%A4%A/check-runs', 'commits/%E0%A4%A/status', 'compare/%E0%A4%A...main', 'commits/-h', 'compare/main..x...main']) {
    const r = await fetch(`${fx.gh.apiUrl}/repos/contoso/landing-zones/${path}`, { headers: { authorization: `token ${fx.gh.token}` } });
    assert.is(r.status, 404, path);
  }
});

test.run();

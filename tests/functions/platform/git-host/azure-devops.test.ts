// AzureDevOpsHost through the real azure-devops-node-api against the Azure DevOps stand-in (commits
// made with real `git push`), plus the error mapping against servers that throttle or are gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Zip, ZipPassThrough, zipSync, strToU8 } from 'fflate';
import * as azdev from 'azure-devops-node-api';
import type { TokenCredential } from '@azure/core-auth';
import { startAzureDevOpsStandIn, type AzureDevOpsStandIn } from '../../../../scripts/sandbox/azure-devops/server.ts';
import { AZURE_DEVOPS_SCOPE, AzureDevOpsHost, THREAD_MARKER_PROPERTY } from '../../../../functions/platform/git-host/azure-devops.ts';
import { ArchiveRefusedError } from '../../../../functions/platform/git-host/archive.ts';
import { extractZip } from '../../../../functions/platform/git-host/azure-devops-zip.ts';
import { GitHostUnavailableError, GitRefNotFoundError } from '../../../../functions/platform/git-host/types.ts';

const run = promisify(execFile);
const repo = { provider: 'azure-devops' as const, org: 'contoso', project: 'platform', repo: 'landing-zones' };
const LIMITS = { maxBytes: 10 * 1024 * 1024, maxFiles: 1000 };

let standIn: AzureDevOpsStandIn;
let host: AzureDevOpsHost;
let tmp: string;
let clone: string;
let seeded: string;

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@contoso.example', ...args], {
    cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
  });
  return stdout.trim();
}

async function commitFile(branch: string, file: string, text: string): Promise<string> {
  await git(clone, 'checkout', '--quiet', branch);
  await writeFile(join(clone, file), text);
  await git(clone, 'add', file);
  await git(clone, 'commit', '--quiet', '-m', `Write ${file}`);
  await git(clone, 'push', '--quiet', 'origin', branch);
  return git(clone, 'rev-parse', 'HEAD');
}

/** uvu has no assert.rejects: the error must be an instance of the class, or match the pattern. */
async function rejects(fn: () => Promise<unknown>, expected: (new (...a: any[]) => Error) | RegExp, label?: string): Promise<void> {
  const err = await fn().then(() => undefined, (e: unknown) => e);
  assert.ok(err, `expected a rejection${label ? ` (${label})` : ''}`);
  if (expected instanceof RegExp) assert.match(String((err as Error).message), expected);
  else assert.instance(err, expected);
}

async function gitApi() {
  return new azdev.WebApi(`${standIn.url}/contoso`, azdev.getPersonalAccessTokenHandler(standIn.pat)).getGitApi();
}

test.before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ado-host-'));
  standIn = await startAzureDevOpsStandIn({ dataDir: join(tmp, 'data') });
  seeded = await standIn.seed('contoso/platform/landing-zones', join(process.cwd(), 'archetypes'));
  clone = join(tmp, 'clone');
  await git(tmp, 'clone', '--quiet', standIn.gitUrl('contoso', 'platform', 'landing-zones'), clone);
  await git(clone, 'branch', 'main-old');
  await git(clone, 'push', '--quiet', 'origin', 'main-old');
  host = new AzureDevOpsHost({ repo, baseUrl: standIn.url, pat: standIn.pat });
});

test.after(async () => {
  await standIn.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('branchHead: the exact branch (heads/main is a prefix of heads/main-old), undefined for none', async () => {
  assert.is(host.id, 'azure-devops:contoso/platform/landing-zones');
  assert.is(await host.branchHead('main'), seeded);
  assert.is(await host.branchHead('no-such-branch'), undefined);
  await rejects(() => new AzureDevOpsHost({ repo: { ...repo, repo: 'missing' }, baseUrl: standIn.url, pat: standIn.pat }).branchHead('main'), GitRefNotFoundError);
});

test('commit: parents, author, committer and message; no signature from ADO; unknown → GitRefNotFoundError', async () => {
  const sha = await commitFile('main', 'one.md', '1\n');
  const c = await host.commit(sha);
  assert.is(c.sha, sha);
  assert.equal(c.parents, [seeded]);
  assert.is(c.author.email, 'ada@contoso.example');
  assert.is(c.committer.name, 'Ada Lovelace');
  assert.ok(c.author.date && !Number.isNaN(Date.parse(c.author.date)));
  assert.is(c.message, 'Write one.md');
  assert.is(c.signed, undefined);
  await rejects(() => host.commit('0123456789abcdef0123456789abcdef01234567'), GitRefNotFoundError);
});

test('compare: ahead with the commits oldest first, identical, behind, diverged, truncated at the limit', async () => {
  const base = await host.branchHead('main');
  const a = await commitFile('main', 'two.md', '2\n');
  const b = await commitFile('main', 'three.md', '3\n');
  const ahead = await host.compare(base!, b);
  assert.is(ahead.status, 'ahead');
  assert.equal(ahead.commits.map((c) => c.sha), [a, b]);
  assert.is(ahead.truncated, false);
  assert.is((await host.compare(b, b)).status, 'identical');
  assert.is((await host.compare(b, base!)).status, 'behind');
  await git(clone, 'checkout', '--quiet', '-b', 'side', base!);
  const side = await commitFile('side', 'side.md', 's\n');
  const diverged = await host.compare(b, side);
  assert.is(diverged.status, 'diverged');
  assert.equal(diverged.commits.map((c) => c.sha), [side]);
  const limited = await host.compare(base!, b, 1);
  assert.is(limited.commits.length, 1);
  assert.is(limited.truncated, true, 'fewer commits than there are: the caller refuses to guess');
});

test('download: the repository or a sub-folder at a commit, the limits enforced', async () => {
  await git(clone, 'checkout', '--quiet', 'main');
  await mkdir(join(clone, 'lib/policies'), { recursive: true });
  const head = await commitFile('main', 'lib/policies/tag.json', '{"tag":"cost-center"}\n');
  const all = await mkdir(join(tmp, 'all'), { recursive: true }).then(() => join(tmp, 'all'));
  const r = await host.download(head, '', all, LIMITS);
  const tracked = (await git(clone, 'ls-tree', '-r', '--name-only', head)).split('\n');
  assert.is(r.files, tracked.length);
  assert.ok((await readdir(all)).includes('guardrails.yaml'));
  assert.is(await readFile(join(all, 'lib/policies/tag.json'), 'utf8'), '{"tag":"cost-center"}\n');

  const sub = join(tmp, 'sub');
  await mkdir(sub);
  const s = await host.download(head, 'lib', sub, LIMITS);
  assert.equal(s, { files: 1, bytes: 22 });
  assert.is(await readFile(join(sub, 'policies/tag.json'), 'utf8'), '{"tag":"cost-center"}\n', 'paths are relative to the folder');

  const tooMany = join(tmp, 'too-many');
  await mkdir(tooMany);
  await rejects(() => host.download(head, '', tooMany, { maxBytes: LIMITS.maxBytes, maxFiles: 2 }), /files over the limit of 2/);
  await rejects(() => host.download(head, '', tooMany, { maxBytes: 100, maxFiles: 1000 }), /bytes (in the whole archive )?over the limit/);
  await rejects(() => host.download('0123456789abcdef0123456789abcdef01234567', '', tooMany, LIMITS), GitRefNotFoundError);
});

test('the zip extraction refuses entries that leave the folder', async () => {
  for (const name of ['../evil.txt', '/etc/evil', 'a/../../evil', 'C:/evil', 'a\\..\\evil']) {
    const dir = await mkdtemp(join(tmp, 'zip-'));
    const zip = zipSync({ [name]: strToU8('x') });
    await rejects(() => extractZip(chunksOf(zip), dir, { stripComponents: 0, path: '', limits: LIMITS }), ArchiveRefusedError, name);
    assert.equal(await readdir(dir), [], `nothing written for ${name}`);
  }
});

/** The zip as a response would bring it: small chunks; `read` counts the bytes handed out. */
async function* chunksOf(zip: Uint8Array, read?: { bytes: number }): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < zip.length; at += 1024) {
    const chunk = zip.subarray(at, at + 1024);
    if (read) read.bytes += chunk.length;
    yield chunk;
  }
}

test('the zip extraction stops a bomb while inflating, even when the zip lies about its size', async () => {
  const zip = zipSync({ 'bomb.bin': new Uint8Array(40 * 1024 * 1024) }, { level: 9 });
  // Declare 10 bytes (local header and central directory) so only the inflated bytes can tell.
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  view.setUint32(22, 10, true);
  const central = Buffer.from(zip).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  view.setUint32(central + 24, 10, true);
  const dir = await mkdtemp(join(tmp, 'bomb-'));
  const read = { bytes: 0 };
  const limits = { maxBytes: 64 * 1024, maxFiles: 10 };
  await rejects(() => extractZip(chunksOf(zip, read), dir, { stripComponents: 0, path: '', limits }), /bytes (in the whole archive )?over the limit of/);
  assert.ok(read.bytes < zip.length / 4, `refused after ${read.bytes} of ${zip.length} compressed bytes: before the entry was inflated`);
  assert.equal(await readdir(dir), [], 'nothing kept');
});

test('a file larger than a write buffer is written whole; a zip cut short is an error and leaves nothing', async () => {
  const big = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
  const zip = zipSync({ 'a.txt': strToU8('a\n'), 'b.bin': big });
  const whole = await mkdtemp(join(tmp, 'whole-'));
  assert.equal(await extractZip(chunksOf(zip), whole, { stripComponents: 0, path: '', limits: LIMITS }), { files: 2, bytes: 300_002 });
  assert.ok(Buffer.from(big).equals(await readFile(join(whole, 'b.bin'))));
  for (const cut of [zip.length - 30, Math.floor(zip.length / 2)]) {
    const dir = await mkdtemp(join(tmp, 'cut-'));
    await rejects(() => extractZip(chunksOf(zip.subarray(0, cut)), dir, { stripComponents: 0, path: '', limits: LIMITS }), /cut short|cannot be read/, String(cut));
    assert.equal(await readdir(dir), [], `nothing kept when cut at ${cut}`);
  }
});

test("the zip extraction writes entries named like Object's own keys as ordinary files", async () => {
  // fflate's zipSync keys its input by name (and so drops __proto__): build it entry by entry.
  const names = ['__proto__', 'constructor', 'lib/__proto__', 'toString'];
  const parts: Uint8Array[] = [];
  const zipper = new Zip((err, data) => { if (err) throw err; parts.push(data); });
  for (const name of names) {
    const entry = new ZipPassThrough(name);
    zipper.add(entry);
    entry.push(strToU8(`${name}\n`), true);
  }
  zipper.end();
  const zip = new Uint8Array(Buffer.concat(parts));
  const dir = await mkdtemp(join(tmp, 'proto-'));
  const r = await extractZip(chunksOf(zip), dir, { stripComponents: 0, path: '', limits: LIMITS });
  assert.is(r.files, 4);
  for (const name of names) assert.is(await readFile(join(dir, name), 'utf8'), `${name}\n`);
});

test('pull requests: info, one thread created then edited in place, a status nexus/preview, votes as reviews', async () => {
  await git(clone, 'checkout', '--quiet', '-b', 'feature/pr', 'main');
  const head = await commitFile('feature/pr', 'pr.md', 'pr\n');
  const g = await gitApi();
  const created = await g.createPullRequest({ sourceRefName: 'refs/heads/feature/pr', targetRefName: 'refs/heads/main', title: 'A change' }, 'landing-zones', 'platform');
  const n = created.pullRequestId!;
  const info = await host.pullRequest(n);
  assert.equal({ ...info, url: undefined }, { number: n, state: 'open', draft: false, headRef: 'feature/pr', baseRef: 'main', headSha: head, title: 'A change', url: undefined });
  assert.match(info.url, /\/contoso\/platform\/_git\/landing-zones\/pullrequest\//);
  await rejects(() => host.pullRequest(9999), GitRefNotFoundError);

  const marker = '<!-- nexus:preview -->';
  const first = await host.upsertComment(n, marker, `${marker}\nfirst`);
  assert.is(first.created, true);
  await g.createThread({ comments: [{ content: 'a human comment' }] }, 'landing-zones', n, 'platform');
  const second = await host.upsertComment(n, marker, `${marker}\nsecond`);
  assert.equal(second, { id: first.id, created: false }, 'the same thread, found by its property');
  const threads = await g.getThreads('landing-zones', n, 'platform');
  const ours = threads.filter((t) => t.properties && Object.hasOwn(t.properties, THREAD_MARKER_PROPERTY));
  assert.is(ours.length, 1);
  assert.is(ours[0].comments?.length, 1);
  assert.is(ours[0].comments?.[0].content, `${marker}\nsecond`);

  await host.report(n, { name: 'nexus/preview', commit: head, conclusion: 'success', title: '2 stacks change', summary: 'long', detailsUrl: 'http://portal.example/runs/1' });
  await host.report(n, { name: 'nexus/preview', commit: head, conclusion: 'neutral', title: 'needs approval', summary: 'long' });
  const statuses = await g.getPullRequestStatuses('landing-zones', n, 'platform');
  assert.equal(statuses.map((s) => [s.context?.genre, s.context?.name, s.state, s.description]), [
    ['nexus', 'preview', 2 /* succeeded */, '2 stacks change'],
    ['nexus', 'preview', 5 /* notApplicable */, 'needs approval'],
  ]);
  assert.is(statuses[0].targetUrl, 'http://portal.example/runs/1');

  await g.createPullRequestReviewer({ vote: 10, displayName: 'Grace Hopper', uniqueName: 'grace@contoso.example' } as any, 'landing-zones', n, 'a0000000-0000-4000-8000-000000000001', 'platform');
  await g.createPullRequestReviewer({ vote: -10, displayName: 'Tomás Ortega', uniqueName: 'tomas@contoso.example' } as any, 'landing-zones', n, 'a0000000-0000-4000-8000-000000000002', 'platform');
  await g.createPullRequestReviewer({ vote: 0, displayName: 'Idle', uniqueName: 'idle@contoso.example' } as any, 'landing-zones', n, 'a0000000-0000-4000-8000-000000000003', 'platform');
  assert.equal((await host.reviews(n)).map((r) => [r.login, r.state]), [['grace@contoso.example', 'approved'], ['tomas@contoso.example', 'changes_requested']]);

  await g.updatePullRequest({ status: 3 }, 'landing-zones', n, 'platform');
  const merged = await host.pullRequest(n);
  assert.is(merged.state, 'merged');
  assert.is(merged.mergeCommitSha, await host.branchHead('main'));
});

test('managed identity: a bearer token for Azure DevOps\'s scope', async () => {
  const scopes: string[] = [];
  const credential: TokenCredential = {
    async getToken(scope) {
      scopes.push(String(scope));
      return { token: standIn.pat, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
  const mi = new AzureDevOpsHost({ repo, baseUrl: standIn.url, credential });
  assert.ok(await mi.branchHead('main'));
  assert.equal([...new Set(scopes)], [AZURE_DEVOPS_SCOPE]);
});

test('429 with Retry-After and an unreachable host are GitHostUnavailableError (the caller retries); TF401175 is GitRefNotFoundError', async () => {
  const throttle = createServer((_req, res) => res.writeHead(429, { 'Retry-After': '7', 'content-type': 'application/json' }).end('{"message":"TF400733: throttled"}'));
  await new Promise<void>((r) => throttle.listen(0, '127.0.0.1', () => r()));
  const port = (throttle.address() as { port: number }).port;
  try {
    const err = await new AzureDevOpsHost({ repo, baseUrl: `http://127.0.0.1:${port}`, pat: 'x' }).branchHead('main').then(() => undefined, (e) => e);
    assert.instance(err, GitHostUnavailableError);
    assert.is(err.retryAfterSeconds, 7);
  } finally {
    await new Promise<void>((r) => throttle.close(() => r()));
  }
  const unresolvable = createServer((_req, res) => res.writeHead(400, { 'content-type': 'application/json' })
    .end('{"message":"TF401175: The version descriptor <Commit: 0123abc> could not be resolved to a version in the repository."}'));
  await new Promise<void>((r) => unresolvable.listen(0, '127.0.0.1', () => r()));
  try {
    const err = await new AzureDevOpsHost({ repo, baseUrl: `http://127.0.0.1:${(unresolvable.address() as { port: number }).port}`, pat: 'x' })
      .compare('0123abc', 'fedc987').then(() => undefined, (e) => e);
    assert.instance(err, GitRefNotFoundError, 'TF401175 is a missing commit, not retried');
  } finally {
    await new Promise<void>((r) => unresolvable.close(() => r()));
  }
  const gone = await new AzureDevOpsHost({ repo, baseUrl: `http://127.0.0.1:${port}`, pat: 'x' }).commit('abc').then(() => undefined, (e) => e);
  assert.instance(gone, GitHostUnavailableError);
});

test.run();

// The desired state compiled from a landing-zone repository (a local Git repository served as a
// Git host) at commits, against the package's own archetypes/ compiled the way the loop does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archetypesDir, compileTenant, tenantOptionsFor } from '../../../stacks/compile/index.ts';
import { InputError } from '../../../stacks/compile/errors.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';
import { RepoDesiredSource, repoSourceFromSettings } from '../../../functions/gitops/repo-source.ts';
import { SnapshotCache } from '../../../functions/gitops/snapshots.ts';
import { GitRefNotFoundError } from '../../../functions/platform/git-host/types.ts';
import { parseRepoRef } from '../../../functions/runtime/config.ts';
import type { CompileArchetypes } from '../../../functions/reconcile/compile-archetypes.ts';
import { FolderDesiredSource } from '../../../functions/reconcile/folder-source.ts';
import { desiredStateHash } from '../../../functions/reconcile/hash.ts';
import { LocalGitHost, LocalGitRepo } from '../../helpers/local-git-host.ts';
import { rejection } from '../../helpers/rejection.ts';

const MB = 1024 * 1024;
const env = { ...process.env, NEXUS_ROOT_MG: 'tenant-root' };

/** The real compiler (built-ins from the shipped cache only: no ARM here), counting its calls. */
function countingCompiler(): CompileArchetypes & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (dir: string) => {
    calls.push(dir);
    return compileTenant(tenantOptionsFor(dir, env));
  };
  return Object.assign(fn, { calls });
}

function source(host: LocalGitHost, compile: CompileArchetypes, opts: { branch?: string; path?: string; keep?: number } = {}) {
  const snapshots = new SnapshotCache({ host, path: opts.path ?? '', dir: mkdtempSync(join(tmpdir(), 'nexus-repo-source-')), maxBytes: 64 * MB, maxSnapshotBytes: 16 * MB });
  return new RepoDesiredSource({ host, snapshots, branch: opts.branch ?? 'main', path: opts.path ?? '', compile, keep: opts.keep });
}

const hashes = (s: DesiredState) => new Map(s.stacks.map((p) => [p.name, desiredStateHash(s, p.name)]));
function changed(a: DesiredState, b: DesiredState): string[] {
  const ha = hashes(a);
  const hb = hashes(b);
  return [...new Set([...ha.keys(), ...hb.keys()])].filter((k) => ha.get(k) !== hb.get(k));
}

test('two commits differ only in the stacks the change touches; a README edit touches none', async () => {
  const repo = await LocalGitRepo.create();
  repo.copy(archetypesDir());
  const c1 = await repo.commit('seed from archetypes/');
  repo.write({ 'README.md': `${readFileSync(join(archetypesDir(), 'README.md'), 'utf8')}\nMore words.\n` });
  const c2 = await repo.commit('README only');
  const sandbox = readFileSync(join(archetypesDir(), 'nexus-sandbox.yaml'), 'utf8');
  assert.match(sandbox, /- microsoft\.network\/natgateways\n/);
  repo.write({ 'nexus-sandbox.yaml': sandbox.replace('- microsoft.network/natgateways\n', '- microsoft.network/natgateways\n                - microsoft.network/firewallpolicies\n') });
  const c3 = await repo.commit('sandbox: no firewall policies');

  const host = new LocalGitHost(repo.bare);
  const compile = countingCompiler();
  const src = source(host, compile);
  assert.is(src.kind, 'repository');
  assert.is(await src.head(), c3);

  const [s1, s2, s3] = await Promise.all([src.compile(c1), src.compile(c2), src.compile()]);
  assert.is(s1.commit, c1);
  assert.is(s3.commit, c3, 'no commit: the branch head');
  assert.equal(s1.state.findings.filter((f) => f.severity === 'error'), []);
  assert.ok(s1.state.stacks.length > 5);
  assert.equal(changed(s1.state, s2.state), [], 'a README edit changes no stack');
  assert.equal(changed(s1.state, s3.state), ['sandbox']);
  assert.ok(s3.state.findings.every((f) => !f.file.includes('nexus-repo-source-')), 'findings name repository files, not the cache');

  // The same desired state as the package's archetypes/ compiled in place (FolderDesiredSource).
  const folder = new FolderDesiredSource({ compile });
  assert.equal(changed((await folder.compile()).state, s1.state), []);

  // Compiled once per commit; each caller gets its own copy.
  assert.is(compile.calls.length, 4);
  const again = await src.compile(c3);
  assert.is(compile.calls.length, 4);
  again.state.stacks.length = 0;
  assert.ok((await src.compile(c3)).state.stacks.length > 5);
  assert.is(host.downloads.get(c3), 1);
});

/** A compiler that reads one file: fast, for the source's own behaviour. */
const fileCompiler = (): CompileArchetypes & { calls: number } => {
  const fn = Object.assign(async (dir: string) => {
    fn.calls++;
    const text = readFileSync(join(dir, 'a.yaml'), 'utf8');
    const state: DesiredState = {
      tenantRootId: 't', rootManagementGroupId: 't', location: 'x', resources: [], stacks: [{ name: text.trim() } as DesiredState['stacks'][number]],
      findings: [{ severity: 'warning', file: join(dir, 'a.yaml'), path: 'a', message: `in ${join(dir, 'a.yaml')}` }],
    };
    return state;
  }, { calls: 0 });
  return fn;
};

test('compiled states are kept per commit in a small LRU; findings name files as the repository does', async () => {
  const repo = await LocalGitRepo.create();
  const commits: string[] = [];
  for (const v of ['one', 'two', 'three']) {
    repo.write({ 'lz/a.yaml': `${v}\n` });
    commits.push(await repo.commit(v));
  }
  const host = new LocalGitHost(repo.bare);
  const compile = fileCompiler();
  const src = source(host, compile, { path: 'lz', keep: 2 });
  const got = await Promise.all([src.compile(commits[0]), src.compile(commits[0])]);
  assert.is(compile.calls, 1, 'concurrent compiles of one commit share the work');
  assert.equal(got[0]!.state.stacks, [{ name: 'one' }]);
  assert.equal(got[0]!.state.findings[0], { severity: 'warning', file: 'lz/a.yaml', path: 'a', message: 'in lz/a.yaml' });
  await src.compile(commits[1]);
  await src.compile(commits[2]);
  assert.is(compile.calls, 3);
  await src.compile(commits[2]);
  await src.compile(commits[1]);
  assert.is(compile.calls, 3);
  await src.compile(commits[0]);
  assert.is(compile.calls, 4, 'the oldest was dropped');
});

test('a commit that does not load: the InputError names the repository file; not kept', async () => {
  const repo = await LocalGitRepo.create();
  repo.write({ 'lz/a.yaml': 'broken\n' });
  const c1 = await repo.commit('broken');
  const host = new LocalGitHost(repo.bare);
  let calls = 0;
  const src = source(host, async (dir) => {
    calls++;
    throw new InputError(join(dir, 'a.yaml'), 'spec', `cannot parse ${join(dir, 'a.yaml')}`);
  }, { path: 'lz' });
  const e = await rejection(src.compile(c1));
  assert.instance(e, InputError);
  assert.is((e as InputError).file, 'lz/a.yaml');
  assert.is(e.message, 'lz/a.yaml (spec): cannot parse lz/a.yaml');
  await rejection(src.compile(c1));
  assert.is(calls, 2);
  assert.is(host.downloads.get(c1), 1, 'the snapshot is kept');
});

test('from the settings: branch, sub-folder and cache folder as configured', async () => {
  const repo = await LocalGitRepo.create({ branch: 'trunk' });
  repo.write({ 'lz/a.yaml': 'configured\n', 'a.yaml': 'root\n' });
  const c1 = await repo.commit('one');
  const cacheDir = mkdtempSync(join(tmpdir(), 'nexus-settings-cache-'));
  const id = 'github:contoso/landing-zones';
  const src = repoSourceFromSettings({
    repo: parseRepoRef(id), repoId: id, branch: 'trunk', path: 'lz', requireSignedCommits: false,
    cache: { dir: cacheDir, maxBytes: 1024 * 1024, maxSnapshotBytes: 1024 * 1024 }, previewConcurrency: 1, publicUrl: 'http://localhost',
  }, new LocalGitHost(repo.bare), fileCompiler());
  const got = await src.compile();
  assert.is(got.commit, c1);
  assert.equal(got.state.stacks, [{ name: 'configured' }]);
  assert.equal(got.state.findings[0]!.file, 'lz/a.yaml');
  const [scope] = readdirSync(cacheDir);
  assert.equal(readdirSync(join(cacheDir, scope!)), [c1]);
});

test('unknown commits and a deleted branch: GitRefNotFoundError, nothing kept', async () => {
  const repo = await LocalGitRepo.create();
  repo.write({ 'lz/a.yaml': 'one\n' });
  const c1 = await repo.commit('one');
  const host = new LocalGitHost(repo.bare);
  const compile = fileCompiler();
  const src = source(host, compile, { path: 'lz' });
  const unknown = 'b'.repeat(40);
  assert.instance(await rejection(src.compile(unknown)), GitRefNotFoundError);
  assert.instance(await rejection(src.compile(unknown)), GitRefNotFoundError);
  assert.is(host.downloads.get(unknown), 2, 'a failure is not cached');
  assert.instance(await rejection(src.compile('main')), GitRefNotFoundError, 'a branch name is not a commit id');
  assert.is(compile.calls, 0);
  assert.instance(await rejection(src.history(c1, unknown)), GitRefNotFoundError);

  const gone = source(host, compile, { branch: 'release', path: 'lz' });
  const e = await rejection(gone.head());
  assert.instance(e, GitRefNotFoundError);
  assert.match(e.message, /release/);
  assert.instance(await rejection(gone.compile()), GitRefNotFoundError);
  await repo.deleteBranch('main');
  assert.instance(await rejection(src.head()), GitRefNotFoundError);
  assert.is((await src.compile(c1)).commit, c1, 'a named commit still compiles');
});

test('history: the commits after base up to head, oldest first, with their authors', async () => {
  const repo = await LocalGitRepo.create();
  const carol = { name: 'Carol Smith', email: 'carol@contoso.example' };
  const dave = { name: 'Dave Jones', email: 'dave@contoso.example' };
  repo.write({ 'a.yaml': '1\n' });
  const c1 = await repo.commit('one', { author: carol });
  repo.write({ 'a.yaml': '2\n' });
  const c2 = await repo.commit('two', { author: dave });
  repo.write({ 'a.yaml': '3\n' });
  const c3 = await repo.commit('three', { author: carol });
  const src = source(new LocalGitHost(repo.bare), fileCompiler());

  const first = await src.history(undefined, c1);
  assert.is(first.status, 'ahead');
  assert.equal(first.commits.map((c) => [c.sha, c.author.email, c.parents]), [[c1, carol.email, []]]);
  const since = await src.history(c1, c3);
  assert.is(since.status, 'ahead');
  assert.equal(since.commits.map((c) => [c.sha, c.author.name, c.message]), [[c2, dave.name, 'two'], [c3, carol.name, 'three']]);
  assert.equal(since.commits[1]!.parents, [c2]);
  assert.is(since.truncated, false);
  assert.is((await src.history(c3, c1)).status, 'behind');
  assert.is((await src.history(c2, c2)).status, 'identical');
  // A force push: c3 is replaced by another commit on c2.
  await repo.git('reset', '-q', '--hard', c2);
  repo.write({ 'a.yaml': '3b\n' });
  const c3b = await repo.commit('three again', { author: dave });
  const diverged = await src.history(c3, c3b);
  assert.is(diverged.status, 'diverged');
  assert.equal(diverged.commits.map((c) => c.sha), [c3b]);
});

test('the folder source: the checkout HEAD and its author, as before GitOps', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nexus-folder-source-'));
  const g = (...args: string[]) => execFileSync('git', args, { cwd: root }).toString().trim();
  g('init', '-q');
  writeFileSync(join(root, 'a.yaml'), 'folder\n');
  g('add', '.');
  g('-c', 'user.name=Erin Fox', '-c', 'user.email=erin@contoso.example', 'commit', '-qm', 'first');
  const head = g('rev-parse', 'HEAD');
  const compile = fileCompiler();
  const src = new FolderDesiredSource({ dir: root, compile });
  assert.is(src.kind, 'folder');
  assert.is(await src.head(), head);
  const got = await src.compile();
  assert.is(got.commit, head);
  assert.equal(got.state.stacks, [{ name: 'folder' }]);
  const h = await src.history('0'.repeat(40), head);
  assert.is(h.status, 'ahead');
  assert.equal(h.commits.map((c) => [c.sha, c.author]), [[head, { name: 'Erin Fox', email: 'erin@contoso.example' }]]);
  writeFileSync(join(root, 'a.yaml'), 'changed\n');
  assert.is(await src.head(), `${head}+dirty`);
  assert.equal((await src.history(undefined, `${head}+dirty`)).commits.map((c) => c.author.name), ['Erin Fox']);
  // Outside a checkout: no commit, no authors.
  const plain = new FolderDesiredSource({ dir: mkdtempSync(join(tmpdir(), 'nexus-folder-plain-')), compile });
  assert.is(await plain.head(), undefined);
  assert.equal((await plain.history(undefined, 'x')).commits, []);
});

test.run();

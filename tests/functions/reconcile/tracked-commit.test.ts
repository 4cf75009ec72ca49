import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitAuthor, trackedCommit } from '../../../functions/reconcile/tracked-commit.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { cwd }).toString().trim();

test('the HEAD of the archetypes repository, +dirty when the archetypes differ from it', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'nexus-tracked-'));
  const dir = join(repo, 'archetypes');
  mkdirSync(dir);
  git(repo, 'init', '-q');
  writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'first');
  const head = git(repo, 'rev-parse', 'HEAD');
  assert.is(await trackedCommit(dir), head);
  // A change elsewhere in the repository does not make the archetypes dirty.
  writeFileSync(join(repo, 'README'), 'x\n');
  assert.is(await trackedCommit(dir), head);
  writeFileSync(join(dir, 'a.yaml'), 'a: 2\n');
  assert.is(await trackedCommit(dir), `${head}+dirty`);
});

test('outside a Git checkout there is no commit', async () => {
  assert.is(await trackedCommit(mkdtempSync(join(tmpdir(), 'nexus-nogit-'))), undefined);
});

test("a commit's author as Git records it; unknown or malformed commits have none", async () => {
  const repo = mkdtempSync(join(tmpdir(), 'nexus-author-'));
  execFileSync('git', ['init', '-q'], { cwd: repo });
  writeFileSync(join(repo, 'a.yaml'), 'a: 1\n');
  execFileSync('git', ['add', '.'], { cwd: repo });
  execFileSync('git', ['-c', 'user.name=Carol Smith', '-c', 'user.email=carol@contoso.com', 'commit', '-qm', 'first'], { cwd: repo });
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo }).toString().trim();
  assert.equal(await commitAuthor(repo, head), { name: 'Carol Smith', email: 'carol@contoso.com' });
  assert.equal(await commitAuthor(repo, `${head}+dirty`), { name: 'Carol Smith', email: 'carol@contoso.com' });
  assert.is(await commitAuthor(repo, 'abc'), undefined, 'too short to be an id');
  assert.is(await commitAuthor(repo, '0123456789abcdef0123456789abcdef01234567'), undefined, 'not in the repository');
  assert.is(await commitAuthor(repo, '--all'), undefined, 'never an option for git');
  assert.is(await commitAuthor(repo, undefined), undefined);
});

test.run();

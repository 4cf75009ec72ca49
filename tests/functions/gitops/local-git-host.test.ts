// The Git host test double (tests/helpers/local-git-host.ts) is faithful where others rely on it:
// a signed commit's payload and signature verify with ssh-keygen as Git's own check does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalGitHost, LocalGitRepo } from '../../helpers/local-git-host.ts';

test('an SSH-signed commit: payload and signature as signed, verifiable with ssh-keygen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-sign-'));
  const key = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', key]);
  const repo = await LocalGitRepo.create();
  repo.write({ 'a.yaml': '1\n' });
  const unsigned = await repo.commit('unsigned');
  repo.write({ 'a.yaml': '2\n' });
  const signed = await repo.commit('signed\n\nwith a body', { extraArgs: ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`, '-c', 'commit.gpgsign=true'] });
  const host = new LocalGitHost(repo.bare);

  assert.is((await host.commit(unsigned)).signed, undefined);
  const info = await host.commit(signed);
  assert.is(info.message, 'signed\n\nwith a body');
  assert.equal(info.parents, [unsigned]);
  assert.is(info.author.email, 'alice@contoso.example');
  assert.match(info.signed!.signature, /^-----BEGIN SSH SIGNATURE-----\n[\s\S]+\n-----END SSH SIGNATURE-----\n$/);
  assert.not.match(info.signed!.payload, /gpgsig/);
  const sig = join(dir, 'sig');
  writeFileSync(sig, info.signed!.signature);
  writeFileSync(join(dir, 'allowed'), `alice@contoso.example ${readFileSync(`${key}.pub`, 'utf8')}`);
  const out = execFileSync('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', 'alice@contoso.example', '-n', 'git', '-s', sig], { input: info.signed!.payload }).toString();
  assert.match(out, /Good "git" signature for alice@contoso.example/);
  // A changed payload does not verify.
  assert.throws(() => execFileSync('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', 'alice@contoso.example', '-n', 'git', '-s', sig], { input: info.signed!.payload.replace('signed', 'Signed'), stdio: 'pipe' }));
});

test('compare is truncated at the limit, oldest first', async () => {
  const repo = await LocalGitRepo.create();
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    repo.write({ 'a.yaml': `${i}\n` });
    ids.push(await repo.commit(`c${i}`));
  }
  const host = new LocalGitHost(repo.bare);
  const c = await host.compare(ids[0]!, ids[3]!, 2);
  assert.equal(c.commits.map((x) => x.sha), [ids[1], ids[2]]);
  assert.is(c.truncated, true);
  assert.is(await host.branchHead('main'), ids[3]);
  assert.is(await host.branchHead('--all'), undefined);
});

test.run();

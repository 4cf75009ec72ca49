// splitSignedCommit gives exactly the payload git itself verifies, and the signature; the object
// id rebuilt from them is the commit's sha (SHA-1 and SHA-256 repositories).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { payloadCommitterEmail, signedCommitObjectId, splitSignedCommit } from '../../../../functions/gitops/signatures/commit-object.ts';
import { parseAllowedSigners, verifyCommit } from '../../../../functions/gitops/signatures/verify.ts';
import { captureProgram, commit, commitInfoFromRaw, gitRepo, gpgKey, rawCommit, sandbox, sshKey, writeRawCommit, type Sandbox } from './helpers.ts';

let sb: Sandbox;
test.before(() => {
  sb = sandbox();
});
test.after(() => sb.cleanup());

test('the payload is byte for byte what git verify-commit hands to gpg; the signature is the header without its indentation', () => {
  const repo = gitRepo(sb, 'pgp');
  const key = gpgKey(sb, 'Gus <gus@example.com>');
  commit(sb, repo, { email: 'gus@example.com' });
  const sha = commit(sb, repo, { email: 'gus@example.com', gpg: key.fingerprint, message: 'subject\n\nbody line\ngpgsig not a header\n' });
  const raw = rawCommit(sb, repo, sha);
  const out = join(sb.dir, 'payload-from-git');
  try {
    sb.run('git', ['-c', `gpg.program=${captureProgram(sb, out)}`, 'verify-commit', sha], { cwd: repo });
  } catch { /* the stand-in gpg fails on purpose */ }
  const split = splitSignedCommit(raw)!;
  assert.is(split.payload, readFileSync(out, 'utf8'));
  assert.match(split.payload, /\n\nsubject\n\nbody line\ngpgsig not a header\n$/);
  assert.match(split.signature, /^-----BEGIN PGP SIGNATURE-----\n\n[^ ]/);
  assert.match(split.signature, /\n-----END PGP SIGNATURE-----\n$/);
  assert.is(signedCommitObjectId(split.payload, split.signature, 'sha1'), sha);
  assert.is(payloadCommitterEmail(split.payload), 'gus@example.com');
});

test('unsigned objects give undefined; other headers with continuation lines stay in the payload', () => {
  const repo = gitRepo(sb, 'plain');
  const sha = commit(sb, repo, { email: 'a@example.com' });
  assert.is(splitSignedCommit(rawCommit(sb, repo, sha)), undefined);
  const raw = [
    'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    'author A <a@example.com> 1700000000 +0000',
    'committer A <a@example.com> 1700000000 +0000',
    'mergetag object 4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    ' type commit',
    'gpgsig -----BEGIN SSH SIGNATURE-----',
    ' QUJD',
    ' -----END SSH SIGNATURE-----',
    'gpgsig-sha256 -----BEGIN SSH SIGNATURE-----',
    ' REVG',
    ' -----END SSH SIGNATURE-----',
    'encoding UTF-8',
    '',
    'msg',
    '',
  ].join('\n');
  const split = splitSignedCommit(raw)!;
  assert.is(split.signature, '-----BEGIN SSH SIGNATURE-----\nQUJD\n-----END SSH SIGNATURE-----\n');
  assert.is(split.payload, raw.replace(/gpgsig .*\n .*\n .*\n/, '').replace(/gpgsig-sha256 .*\n .*\n .*\n/, ''));
  assert.match(split.payload, /mergetag object \w+\n type commit\nencoding UTF-8\n\nmsg\n$/);
  assert.is(splitSignedCommit(raw, 'sha256')!.signature, '-----BEGIN SSH SIGNATURE-----\nREVG\n-----END SSH SIGNATURE-----\n');
});

test('SHA-256 repositories: gpgsig-sha256 is split and the commit verifies against its 64-digit id', async () => {
  const repo = join(sb.dir, 'r256');
  sb.run('git', ['init', '-q', '--object-format=sha256', '-b', 'main', repo]);
  const key = sshKey(sb, 'k256', 'ed25519');
  const sha = commit(sb, repo, { email: 'a@example.com', ssh: key.path });
  assert.is(sha.length, 64);
  const raw = rawCommit(sb, repo, sha);
  assert.match(raw, /\ngpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n/);
  const info = commitInfoFromRaw(sha, raw);
  assert.is(signedCommitObjectId(info.signed!.payload, info.signed!.signature, 'sha256'), sha);
  assert.is((await verifyCommit(info, await parseAllowedSigners(`a@example.com ${key.publicLine}`))).ok, true);
});

test('a CommitInfo whose committer differs from the signed one, whose sha is not an object id, or that is oversized, is refused', async () => {
  const repo = gitRepo(sb, 'mismatch');
  const key = sshKey(sb, 'km', 'ed25519');
  const sha = commit(sb, repo, { email: 'a@example.com', ssh: key.path });
  const info = commitInfoFromRaw(sha, rawCommit(sb, repo, sha));
  const signers = await parseAllowedSigners(`a@example.com,b@example.com ${key.publicLine}`);
  const r1 = await verifyCommit({ ...info, committer: { name: 'B', email: 'b@example.com' } }, signers);
  assert.is(!r1.ok && r1.reason, 'bad-signature');
  assert.match(!r1.ok ? r1.message : '', /signed committer <a@example.com> differs from the commit's <b@example.com>/);
  const r2 = await verifyCommit({ ...info, sha: 'HEAD' }, signers);
  assert.is(!r2.ok && r2.reason, 'bad-signature');
  const r3 = await verifyCommit({ ...info, signed: { ...info.signed!, signature: 'x'.repeat(70_000) } }, signers);
  assert.match(!r3.ok ? r3.message : '', /the signature has 70000 characters, at most 65536/);
  const r4 = await verifyCommit({ ...info, signed: { ...info.signed!, payload: 'x'.repeat(9 * 1024 * 1024) } }, signers);
  assert.is(!r4.ok && r4.reason, 'unsupported');
  // The rebuilt id is what git itself computes for the object.
  assert.is(writeRawCommit(sb, repo, rawCommit(sb, repo, sha)), sha);
});

test.run();

// SSH-signed commits made by real git with real ssh-keygen keys, verified in process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeAllowedSigners, parseAllowedSigners, signatureFailureText, splitSignedCommit, verifyCommit, verifyCommits } from '../../../../functions/gitops/signatures/verify.ts';
import { verifySsh } from '../../../../functions/gitops/signatures/ssh.ts';
import {
  commit, commitInfo, commitInfoFromRaw, gitRepo, rawCommit, sandbox, sshKey, sshKeygenVerify, sshSign, withSignature, writeRawCommit,
  type Sandbox, type SshKeyFiles,
} from './helpers.ts';

let sb: Sandbox;
let repo: string;
let alice: SshKeyFiles;
let bob: SshKeyFiles;

test.before(() => {
  sb = sandbox();
  repo = gitRepo(sb);
  alice = sshKey(sb, 'alice', 'ed25519');
  bob = sshKey(sb, 'bob', 'ed25519');
});
test.after(() => sb.cleanup());

const line = (principals: string, k: SshKeyFiles, options = '') => `${principals} ${options ? `${options} ` : ''}${k.type} ${k.base64}`;

test('a commit signed by an allowed ed25519 key verifies for its committer', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com', ssh: alice.path });
  const signers = await parseAllowedSigners(`# team\n${line('alice@example.com', alice)}\n`);
  const r = await verifyCommit(commitInfo(sb, repo, sha), signers);
  assert.equal(r, { ok: true, signer: 'alice@example.com', keyFingerprint: sb.run('ssh-keygen', ['-lf', `${alice.path}.pub`]).split(' ')[1], format: 'ssh' });
});

for (const [type, bits] of [['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521], ['rsa', 3072]] as const) {
  test(`a commit signed by an allowed ${type}-${bits} key verifies, and a tampered copy does not`, async () => {
    const k = sshKey(sb, `${type}${bits}`, type, bits);
    const sha = commit(sb, repo, { email: `${type}@example.com`, ssh: k.path });
    const signers = await parseAllowedSigners(line(`${type}@example.com`, k));
    const info = commitInfo(sb, repo, sha);
    assert.is((await verifyCommit(info, signers)).ok, true);
    const raw = rawCommit(sb, repo, sha).replace(/change \d+\n$/, 'changed behind your back\n');
    const r = await verifyCommit(commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw), signers);
    assert.is(r.ok, false);
    assert.is(!r.ok && r.reason, 'bad-signature');
  });
}

test('rsa-sha2-256 / sha256 signatures (ssh-keygen -O hashalg=sha256) verify too', async () => {
  const k = sshKey(sb, 'rsa256', 'rsa', 2048);
  const payload = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nx\n';
  const sig = sshSign(sb, k.path, payload, 'git', 'sha256');
  const signers = await parseAllowedSigners(line('a@example.com', k));
  assert.equal(verifySsh(payload, sig, signers.ssh, 'a@example.com', new Date()), { ok: true, signer: 'a@example.com', keyFingerprint: signers.ssh[0].fingerprint, format: 'ssh' });
  assert.is(verifySsh(`${payload}!`, sig, signers.ssh, 'a@example.com', new Date()).ok, false);
});

test('a key that is not among the allowed signers is an unknown key', async () => {
  const sha = commit(sb, repo, { email: 'bob@example.com', ssh: bob.path });
  const r = await verifyCommit(commitInfo(sb, repo, sha), await parseAllowedSigners(line('alice@example.com', alice)));
  assert.is(!r.ok && r.reason, 'unknown-key');
  assert.match(!r.ok ? r.message : '', /SHA256:/);
});

test('a key allowed only for another e-mail is a signer not allowed (the committer e-mail decides, not the author)', async () => {
  const signers = await parseAllowedSigners(line('alice@example.com', alice));
  const sha = commit(sb, repo, { email: 'mallory@example.com', authorEmail: 'alice@example.com', ssh: alice.path });
  const r = await verifyCommit(commitInfo(sb, repo, sha), signers);
  assert.is(!r.ok && r.reason, 'signer-not-allowed');
  assert.match(!r.ok ? r.message : '', /not mallory@example.com/);
  // Alice committing Bob's authored change with her key is fine.
  const sha2 = commit(sb, repo, { email: 'alice@example.com', authorEmail: 'bob@example.com', ssh: alice.path });
  assert.is((await verifyCommit(commitInfo(sb, repo, sha2), signers)).ok, true);
});

test('an edited payload with the original sha, or a payload re-hashed by git, is a bad signature', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com', ssh: alice.path, message: 'apply the baseline' });
  const signers = await parseAllowedSigners(line('alice@example.com', alice));
  const info = commitInfo(sb, repo, sha);
  const edited = { ...info, signed: { ...info.signed!, payload: info.signed!.payload.replace('baseline', 'backdoor') } };
  const r1 = await verifyCommit(edited, signers);
  assert.is(!r1.ok && r1.reason, 'bad-signature');
  assert.match(!r1.ok ? r1.message : '', /not [0-9a-f]{12}/);
  // The same edit written as a real object: the sha fits, the signature does not.
  const raw = withSignature(edited.signed.payload, info.signed!.signature);
  const r2 = await verifyCommit(commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw), signers);
  assert.is(!r2.ok && r2.reason, 'bad-signature');
  assert.match(!r2.ok ? r2.message : '', /does not match the commit/);
});

test('an unsigned commit has no signature', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com' });
  const info = commitInfo(sb, repo, sha);
  assert.is(info.signed, undefined);
  const r = await verifyCommit(info, await parseAllowedSigners(line('alice@example.com', alice)));
  assert.is(!r.ok && r.reason, 'no-signature');
});

test('a signature made for another namespace than git is refused', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com' });
  const payload = rawCommit(sb, repo, sha);
  const raw = withSignature(payload, sshSign(sb, alice.path, payload, 'file'));
  const info = commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw);
  assert.is(info.signed!.payload, payload);
  const r = await verifyCommit(info, await parseAllowedSigners(line('alice@example.com', alice)));
  assert.is(!r.ok && r.reason, 'bad-signature');
  assert.match(!r.ok ? r.message : '', /namespace 'file', not 'git'/);
});

test('valid-before in the past, valid-after in the future and a namespaces option without git refuse the key', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com', ssh: alice.path });
  const info = commitInfo(sb, repo, sha);
  const check = async (options: string, now?: Date) => verifyCommit(info, await parseAllowedSigners(line('alice@example.com', alice, options)), now);
  const expired = await check('valid-before="20200101Z"');
  assert.is(!expired.ok && expired.reason, 'signer-not-allowed');
  assert.match(!expired.ok ? expired.message : '', /expired at 2020-01-01T00:00:00.000Z/);
  const early = await check('valid-after="20991231235959Z"');
  assert.is(!early.ok && early.reason, 'signer-not-allowed');
  assert.is((await check('valid-after=20200101Z,valid-before=20300101Z', new Date('2026-01-01T00:00:00Z'))).ok, true);
  assert.is((await check('valid-after=20200101Z,valid-before=20300101Z', new Date('2031-01-01T00:00:00Z'))).ok, false);
  const ns = await check('namespaces="file,email"');
  assert.is(!ns.ok && ns.reason, 'signer-not-allowed');
  assert.is((await check('NAMESPACES="file,g?t"')).ok, true);
});

test('principals are pattern lists: wildcards, negation, quotes; any matching line will do', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com', ssh: alice.path });
  const info = commitInfo(sb, repo, sha);
  const ok = async (text: string) => (await verifyCommit(info, await parseAllowedSigners(text))).ok;
  assert.is(await ok(line('*@example.com', alice)), true);
  assert.is(await ok(line('bob@example.com,ali?e@example.com', alice)), true);
  assert.is(await ok(line('*@example.com,!alice@example.com', alice)), false);
  assert.is(await ok(line('"carol@example.com,*@EXAMPLE.com"', alice)), false); // case-sensitive, as ssh-keygen
  assert.is(await ok(`${line('carol@example.com', alice)}\n${line('alice@*', alice)}`), true);
});

test('ssh-keygen -Y verify agrees on the same commit and allowed signers', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com', ssh: alice.path });
  const info = commitInfo(sb, repo, sha);
  const { payload, signature } = info.signed!;
  const cases: [string, string][] = [
    [line('alice@example.com', alice), 'alice@example.com'],
    [line('*@example.com,!alice@*', alice), 'alice@example.com'],
    [line('alice@example.com', bob), 'alice@example.com'],
    [line('alice@example.com', alice, 'valid-before="20200101Z"'), 'alice@example.com'],
    [line('alice@example.com', alice, 'namespaces="file"'), 'alice@example.com'],
    [`${line('alice@example.com', alice, 'namespaces="file"')}\n${line('alice@example.com', alice, 'valid-after="20200101"')}`, 'alice@example.com'],
  ];
  for (const [text, principal] of cases) {
    const ours = (await verifyCommit(info, await parseAllowedSigners(text))).ok;
    assert.is(ours, sshKeygenVerify(sb, `${text}\n`, principal, payload, signature), text);
  }
});

test('verifyCommits reports each commit in order', async () => {
  const signers = await parseAllowedSigners(line('alice@example.com', alice));
  const a = commit(sb, repo, { email: 'alice@example.com', ssh: alice.path });
  const b = commit(sb, repo, { email: 'alice@example.com' });
  const c = commit(sb, repo, { email: 'alice@example.com', ssh: bob.path });
  const results = await verifyCommits([a, b, c].map((s) => commitInfo(sb, repo, s)), signers);
  assert.equal(results.map((r) => [r.commit, r.ok ? 'ok' : r.reason]), [[a, 'ok'], [b, 'no-signature'], [c, 'unknown-key']]);
  assert.equal(results.map(signatureFailureText), [
    undefined,
    `commit ${b.slice(0, 12)}: no signature: the commit is not signed (or the Git host does not give its signature)`,
    `commit ${c.slice(0, 12)}: unknown key: signed with SSH key ${sb.run('ssh-keygen', ['-lf', `${bob.path}.pub`]).split(' ')[1]}, which is not among the allowed signers`,
  ]);
});

test('the setting and the file merge; a refusal names the source and line of each line that had the key', async () => {
  const fromEnv = await parseAllowedSigners(line('bob@example.com', bob));
  const fromFile = await parseAllowedSigners(`\n${line('carol@example.com', alice)}`, { source: '/etc/nexus/allowed_signers' });
  const sha = commit(sb, repo, { email: 'bob@example.com', ssh: alice.path });
  const r = await verifyCommit(commitInfo(sb, repo, sha), mergeAllowedSigners(fromEnv, fromFile));
  assert.is(!r.ok && r.reason, 'signer-not-allowed');
  assert.match(!r.ok ? r.message : '', /\/etc\/nexus\/allowed_signers line 2 allows it for carol@example.com, not bob@example.com/);
  const sha2 = commit(sb, repo, { email: 'bob@example.com', ssh: bob.path });
  assert.is((await verifyCommit(commitInfo(sb, repo, sha2), mergeAllowedSigners(fromEnv, fromFile))).ok, true);
});

test('garbage signatures are failures with a message, never exceptions', async () => {
  const sha = commit(sb, repo, { email: 'alice@example.com', ssh: alice.path });
  const raw = rawCommit(sb, repo, sha);
  const { payload } = splitSignedCommit(raw)!;
  const signers = await parseAllowedSigners(line('alice@example.com', alice));
  for (const sig of [
    '-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n',
    '-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----\n',
    `-----BEGIN SSH SIGNATURE-----\n${Buffer.from('SSHSIG\0\0\0\x02').toString('base64')}\n-----END SSH SIGNATURE-----\n`,
    '-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n',
    'hello\n',
  ]) {
    const raw2 = withSignature(payload, sig);
    const r = await verifyCommit(commitInfoFromRaw(writeRawCommit(sb, repo, raw2), raw2), signers);
    assert.is(r.ok, false, sig);
    assert.ok(!r.ok && ['bad-signature', 'unsupported'].includes(r.reason), sig);
  }
});

test.run();

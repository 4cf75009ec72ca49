// OpenPGP-signed commits: real git commits signed by gpg, and payloads signed by openpgp.js for
// the key states gpg makes awkward (expiry, revocation), verified in process with openpgp.js.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as openpgp from 'openpgp';
import { parseAllowedSigners, verifyCommit } from '../../../../functions/gitops/signatures/verify.ts';
import { commit, commitInfo, commitInfoFromRaw, gitRepo, gpgKey, rawCommit, sandbox, withSignature, writeRawCommit, type Sandbox } from './helpers.ts';

let sb: Sandbox;
let repo: string;
let bob: { fingerprint: string; armoredPublic: string };
let carol: { fingerprint: string; armoredPublic: string };

test.before(() => {
  sb = sandbox();
  repo = gitRepo(sb);
  bob = gpgKey(sb, 'Bob <bob@example.com>');
  carol = gpgKey(sb, 'Carol <carol@example.com>');
});
test.after(() => sb.cleanup());

/** A commit whose signature openpgp.js makes over git's payload, written into the repository by git. */
async function signedByOpenPgp(privateKey: openpgp.PrivateKey, email: string, date?: Date) {
  const payload = rawCommit(sb, repo, commit(sb, repo, { email }));
  const message = await openpgp.createMessage({ binary: Buffer.from(payload, 'utf8') });
  const signature = await openpgp.sign({ message, signingKeys: privateKey, detached: true, format: 'armored', ...(date ? { date } : {}) });
  const raw = withSignature(payload, signature as string);
  return commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw);
}

test('a commit signed with gpg by an allowed key verifies for the e-mail of its user id', async () => {
  const sha = commit(sb, repo, { email: 'bob@example.com', gpg: bob.fingerprint });
  const info = commitInfo(sb, repo, sha);
  assert.match(info.signed!.signature, /^-----BEGIN PGP SIGNATURE-----/);
  // SSH lines and key blocks mix in one text; blocks may sit anywhere.
  const signers = await parseAllowedSigners(`# ops\n${bob.armoredPublic}\n# more\n${carol.armoredPublic}`);
  assert.equal(signers.openpgp.map((k) => k.emails), [['bob@example.com'], ['carol@example.com']]);
  assert.equal(await verifyCommit(info, signers), { ok: true, signer: 'bob@example.com', keyFingerprint: bob.fingerprint, format: 'openpgp' });
});

test('a key not among the allowed signers is an unknown key', async () => {
  const sha = commit(sb, repo, { email: 'bob@example.com', gpg: bob.fingerprint });
  const r = await verifyCommit(commitInfo(sb, repo, sha), await parseAllowedSigners(carol.armoredPublic));
  assert.is(!r.ok && r.reason, 'unknown-key');
  assert.match(!r.ok ? r.message : '', new RegExp(bob.fingerprint.slice(-16)));
});

test('a tampered commit is a bad signature', async () => {
  const sha = commit(sb, repo, { email: 'bob@example.com', gpg: bob.fingerprint, message: 'one vnet' });
  const info = commitInfo(sb, repo, sha);
  const raw = withSignature(info.signed!.payload.replace('one vnet', 'two vnets'), info.signed!.signature);
  const r = await verifyCommit(commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw), await parseAllowedSigners(bob.armoredPublic));
  assert.is(!r.ok && r.reason, 'bad-signature');
  assert.match(!r.ok ? r.message : '', /does not verify/);
});

test('a committer e-mail that is not among the key user ids is a signer not allowed', async () => {
  const sha = commit(sb, repo, { email: 'mallory@example.com', authorEmail: 'bob@example.com', gpg: bob.fingerprint });
  const r = await verifyCommit(commitInfo(sb, repo, sha), await parseAllowedSigners(bob.armoredPublic));
  assert.is(!r.ok && r.reason, 'signer-not-allowed');
  assert.match(!r.ok ? r.message : '', /may sign for bob@example.com, not for the committer mallory@example.com/);
  // E-mails compare case-insensitively for OpenPGP user ids.
  const sha2 = commit(sb, repo, { email: 'Bob@Example.com', gpg: bob.fingerprint });
  assert.is((await verifyCommit(commitInfo(sb, repo, sha2), await parseAllowedSigners(bob.armoredPublic))).ok, true);
});

test('an expired key fails; the same signature verified before the expiry passes', async () => {
  const made = new Date(Date.now() - 3600_000);
  const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ name: 'Dan', email: 'dan@example.com' }], keyExpirationTime: 7200, date: made, format: 'object' });
  const info = await signedByOpenPgp(privateKey, 'dan@example.com');
  const signers = await parseAllowedSigners(publicKey.armor());
  assert.is((await verifyCommit(info, signers)).ok, true);
  const later = await verifyCommit(info, signers, new Date(Date.now() + 2 * 3600_000));
  assert.is(!later.ok && later.reason, 'signer-not-allowed');
  assert.match(!later.ok ? later.message : '', /expired/i);
});

test('a revoked key fails', async () => {
  const { privateKey } = await openpgp.generateKey({ userIDs: [{ name: 'Eve', email: 'eve@example.com' }], format: 'object' });
  const info = await signedByOpenPgp(privateKey, 'eve@example.com');
  const { publicKey: revoked } = await openpgp.revokeKey({ key: privateKey, format: 'object' });
  assert.is((await verifyCommit(info, await parseAllowedSigners(privateKey.toPublic().armor()))).ok, true);
  const r = await verifyCommit(info, await parseAllowedSigners(revoked.armor()));
  assert.is(!r.ok && r.reason, 'signer-not-allowed');
  assert.match(!r.ok ? r.message : '', /revoked/i);
});

test('a signing subkey signs for its primary key, reported by the primary fingerprint', async () => {
  const { privateKey, publicKey } = await openpgp.generateKey({
    userIDs: [{ name: 'Fay', email: 'fay@example.com' }], subkeys: [{ sign: true }], format: 'object',
  });
  const signingKey = await privateKey.getSigningKey();
  assert.is.not(signingKey.getFingerprint(), privateKey.getFingerprint());
  const info = await signedByOpenPgp(privateKey, 'fay@example.com');
  assert.equal(await verifyCommit(info, await parseAllowedSigners(publicKey.armor())), {
    ok: true, signer: 'fay@example.com', keyFingerprint: publicKey.getFingerprint().toUpperCase(), format: 'openpgp',
  });
});

test('a signer clock up to five minutes ahead is tolerated, an hour ahead is not', async () => {
  const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ name: 'Gil', email: 'gil@example.com' }], date: new Date(Date.now() - 86_400_000), format: 'object' });
  const signers = await parseAllowedSigners(publicKey.armor());
  const now = new Date();
  const ahead = await signedByOpenPgp(privateKey, 'gil@example.com', new Date(now.getTime() + 4 * 60_000));
  assert.is((await verifyCommit(ahead, signers, now)).ok, true);
  const farAhead = await signedByOpenPgp(privateKey, 'gil@example.com', new Date(now.getTime() + 3600_000));
  const r = await verifyCommit(farAhead, signers, now);
  assert.is(!r.ok && r.reason, 'bad-signature');
  assert.match(!r.ok ? r.message : '', /in the future/);
});

test('a readable but wrong OpenPGP armor is a bad signature, not an exception', async () => {
  const payload = rawCommit(sb, repo, commit(sb, repo, { email: 'bob@example.com' }));
  const raw = withSignature(payload, '-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n');
  const r = await verifyCommit(commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw), await parseAllowedSigners(bob.armoredPublic));
  assert.is(!r.ok && r.reason, 'bad-signature');
});

test.run();

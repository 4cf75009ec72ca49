// FIDO security keys (sk-ssh-ed25519, sk-ecdsa-sha2-nistp256): no authenticator on a build
// machine, so the test plays the authenticator with node:crypto keys, writes the commit with git,
// and lets `ssh-keygen -Y verify` judge each signature next to Nexus.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { parseAllowedSigners, verifyCommit } from '../../../../functions/gitops/signatures/verify.ts';
import { commit, commitInfoFromRaw, gitRepo, rawCommit, sandbox, sshKeygenVerify, withSignature, writeRawCommit, type Sandbox } from './helpers.ts';

let sb: Sandbox;
let repo: string;
test.before(() => {
  sb = sandbox();
  repo = gitRepo(sb);
});
test.after(() => sb.cleanup());

const str = (b: string | Buffer) => {
  const v = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(v.length);
  return Buffer.concat([len, v]);
};
const mpint = (b: Buffer) => {
  let v = b;
  while (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) v = v.subarray(1);
  return str(v[0] & 0x80 ? Buffer.concat([Buffer.alloc(1), v]) : v);
};
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

interface SkKey { type: string; blob: Buffer; privateKey: KeyObject }

function skKey(kind: 'ed25519' | 'ecdsa'): SkKey {
  if (kind === 'ed25519') {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const x = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const type = 'sk-ssh-ed25519@openssh.com';
    return { type, blob: Buffer.concat([str(type), str(x), str('ssh:')]), privateKey };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const type = 'sk-ecdsa-sha2-nistp256@openssh.com';
  return { type, blob: Buffer.concat([str(type), str('nistp256'), str(point), str('ssh:')]), privateKey };
}

/** An armored sshsig signature as an authenticator would make it (flags 0x01: touched). */
function skSign(k: SkKey, message: string, flags = 0x01, namespace = 'git'): string {
  const toSign = Buffer.concat([Buffer.from('SSHSIG'), str(namespace), str(''), str('sha512'), str(createHash('sha512').update(message).digest())]);
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(42);
  const signed = Buffer.concat([sha256('ssh:'), Buffer.from([flags]), counter, sha256(toSign)]);
  let inner: Buffer;
  if (k.type.startsWith('sk-ssh-ed25519')) inner = sign(null, signed, k.privateKey);
  else {
    const rs = sign('sha256', signed, { key: k.privateKey, dsaEncoding: 'ieee-p1363' });
    inner = Buffer.concat([mpint(rs.subarray(0, 32)), mpint(rs.subarray(32))]);
  }
  const sigBlob = Buffer.concat([str(k.type), str(inner), Buffer.from([flags]), counter]);
  const blob = Buffer.concat([Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 1]), str(k.blob), str(namespace), str(''), str('sha512'), str(sigBlob)]);
  return `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64').replace(/.{1,70}/g, '$&\n')}-----END SSH SIGNATURE-----\n`;
}

for (const kind of ['ed25519', 'ecdsa'] as const) {
  test(`a commit signed by a FIDO ${kind} key verifies, as ssh-keygen agrees; tampering and other e-mails fail`, async () => {
    const k = skKey(kind);
    const allowed = `dev@example.com ${k.type} ${k.blob.toString('base64')}\n`;
    const signers = await parseAllowedSigners(allowed);
    const payload = rawCommit(sb, repo, commit(sb, repo, { email: 'dev@example.com' }));
    const signature = skSign(k, payload);
    const raw = withSignature(payload, signature);
    const info = commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw);
    assert.is(sshKeygenVerify(sb, allowed, 'dev@example.com', payload, signature), true);
    assert.equal((await verifyCommit(info, signers)).ok, true);

    const tampered = payload.replace(/change/, 'chang3');
    assert.is(sshKeygenVerify(sb, allowed, 'dev@example.com', tampered, signature), false);
    const raw2 = withSignature(tampered, signature);
    const r2 = await verifyCommit(commitInfoFromRaw(writeRawCommit(sb, repo, raw2), raw2), signers);
    assert.is(!r2.ok && r2.reason, 'bad-signature');

    const other = await parseAllowedSigners(`ops@example.com ${k.type} ${k.blob.toString('base64')}`);
    const r3 = await verifyCommit(info, other);
    assert.is(!r3.ok && r3.reason, 'signer-not-allowed');
  });
}

test('a FIDO signature made without a touch (no user-presence flag) is refused, where ssh-keygen accepts it', async () => {
  const k = skKey('ed25519');
  const signers = await parseAllowedSigners(`dev@example.com ${k.type} ${k.blob.toString('base64')}`);
  const payload = rawCommit(sb, repo, commit(sb, repo, { email: 'dev@example.com' }));
  const untouched = skSign(k, payload, 0x00);
  // ssh-keygen -Y verify accepts it (it has no touch-required option for allowed signers); Nexus
  // is stricter on purpose: an untouched key signs for whatever runs on the machine.
  assert.is(sshKeygenVerify(sb, `dev@example.com ${k.type} ${k.blob.toString('base64')}\n`, 'dev@example.com', payload, untouched), true);
  const raw = withSignature(payload, untouched);
  const r = await verifyCommit(commitInfoFromRaw(writeRawCommit(sb, repo, raw), raw), signers);
  assert.is(!r.ok && r.reason, 'bad-signature');
  assert.match(!r.ok ? r.message : '', /without user presence/);
});

test.run();

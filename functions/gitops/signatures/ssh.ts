// SSH signatures (OpenSSH's PROTOCOL.sshsig, what `git -c gpg.format=ssh` writes) verified with
// node:crypto, and checked against allowed_signers lines as `ssh-keygen -Y verify` does: the key
// must be on a line whose principals match the e-mail, whose namespaces (if any) match the
// signature's, and whose valid-after / valid-before hold at the time of verification.
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { matchPatternList } from './patterns.ts';
import {
  blobKeyType, KNOWN_UNSUPPORTED_KEY_TYPES, parsePublicKeyBlob, prepareVerify, sshFingerprint, SshWireError,
  VERIFIABLE_KEY_TYPES, WireReader,
} from './ssh-wire.ts';
import { LIMITS, type SignatureCheck, type SshAllowedSigner } from './types.ts';

const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
const MAGIC = Buffer.from('SSHSIG', 'latin1');
const HASHES: ReadonlySet<string> = new Set(['sha256', 'sha512']);

export interface SshSignature {
  publicKey: Buffer;
  namespace: string;
  hashAlgorithm: string;
  signature: Buffer;
}

/** The blob of an armored SSH signature; throws SshWireError. */
export function dearmorSshSignature(armored: string): Buffer {
  if (armored.length > LIMITS.signatureChars) throw new SshWireError(`${armored.length} characters, at most ${LIMITS.signatureChars}`);
  const text = armored.replace(/\r\n/g, '\n').trim();
  if (!text.startsWith(`${BEGIN}\n`)) throw new SshWireError(`does not start with ${BEGIN}`);
  if (!text.endsWith(`\n${END}`)) throw new SshWireError(`does not end with ${END}`);
  const b64 = text.slice(BEGIN.length + 1, text.length - END.length - 1).replace(/\n/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new SshWireError('the armored body is not base64');
  return Buffer.from(b64, 'base64');
}

/** Parses the sshsig blob (magic, version, publickey, namespace, reserved, hash_algorithm, signature). */
export function parseSshSignature(blob: Buffer): SshSignature {
  const r = new WireReader(blob);
  if (!r.bytes(MAGIC.length, 'magic').equals(MAGIC)) throw new SshWireError('no SSHSIG magic');
  const version = r.uint32('version');
  if (version !== 1) throw new SshWireError(`version ${version}, only 1 is known`);
  const publicKey = r.string('publickey');
  const namespace = r.text('namespace');
  r.string('reserved'); // "Implementations should ignore the reserved field if it is not empty."
  const hashAlgorithm = r.text('hash_algorithm');
  const signature = r.string('signature');
  r.end('signature blob');
  return { publicKey, namespace, hashAlgorithm, signature };
}

/** The bytes the signer signed: magic, namespace, reserved, hash algorithm, H(message). */
function signedData(sig: SshSignature, message: Buffer): Buffer {
  const str = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return [len, b];
  };
  const digest = createHash(sig.hashAlgorithm).update(message).digest();
  return Buffer.concat([
    MAGIC, ...str(Buffer.from(sig.namespace, 'latin1')), ...str(Buffer.alloc(0)),
    ...str(Buffer.from(sig.hashAlgorithm, 'latin1')), ...str(digest),
  ]);
}

/**
 * Verifies an armored SSH signature over `payload` (its UTF-8 bytes) for `principal` in
 * `namespace`, against allowed_signers lines, with key validity checked at `now`.
 */
export function verifySsh(
  payload: string, armored: string, allowed: SshAllowedSigner[], principal: string, now: Date, namespace = 'git',
): SignatureCheck {
  let sig: SshSignature;
  try {
    sig = parseSshSignature(dearmorSshSignature(armored));
  } catch (e) {
    return { ok: false, reason: 'bad-signature', message: `not a readable SSH signature: ${(e as Error).message}` };
  }
  let keyType: string;
  try {
    keyType = blobKeyType(sig.publicKey);
  } catch (e) {
    return { ok: false, reason: 'bad-signature', message: `the SSH signature's public key cannot be read: ${(e as Error).message}` };
  }
  if (!VERIFIABLE_KEY_TYPES.has(keyType)) {
    const what = keyType.endsWith('-cert-v01@openssh.com') ? 'an SSH certificate' : KNOWN_UNSUPPORTED_KEY_TYPES.has(keyType) ? `an ${keyType} key` : `an unknown key type '${keyType}'`;
    return { ok: false, reason: 'unsupported', message: `signed with ${what}, which Nexus does not verify` };
  }
  if (!HASHES.has(sig.hashAlgorithm)) {
    return { ok: false, reason: 'unsupported', message: `SSH signature hash algorithm '${sig.hashAlgorithm}' (sha256 or sha512 only)` };
  }
  const fingerprint = sshFingerprint(sig.publicKey);
  // Compare the wire blobs: the allowed line's key and the signature's must be the same key.
  const lines = allowed.filter((a) => a.key.blob.equals(sig.publicKey));
  if (lines.length === 0) {
    return { ok: false, reason: 'unknown-key', message: `signed with SSH key ${fingerprint}, which is not among the allowed signers` };
  }
  if (sig.namespace !== namespace) {
    return { ok: false, reason: 'bad-signature', message: `the SSH signature is for namespace '${sig.namespace}', not '${namespace}'` };
  }
  if (Buffer.byteLength(payload, 'utf8') > LIMITS.payloadBytes) {
    return { ok: false, reason: 'unsupported', message: `the signed commit is over ${LIMITS.payloadBytes} bytes` };
  }
  try {
    const key = parsePublicKeyBlob(sig.publicKey);
    const c = prepareVerify(key, sig.signature, signedData(sig, Buffer.from(payload, 'utf8')));
    const good = cryptoVerify(c.digest, c.data, c.dsaEncoding ? { key: key.key, dsaEncoding: c.dsaEncoding } : key.key, c.signature);
    if (!good) return { ok: false, reason: 'bad-signature', message: `the signature by SSH key ${fingerprint} does not match the commit` };
  } catch (e) {
    return { ok: false, reason: 'bad-signature', message: `the signature by SSH key ${fingerprint} cannot be checked: ${(e as Error).message}` };
  }
  // The key signed it; now is it allowed for this principal, namespace and time (any one line will do)?
  const refusals: string[] = [];
  for (const line of lines) {
    if (matchPatternList(principal, line.principals) !== 1) {
      refusals.push(`${line.source} line ${line.line} allows it for ${line.principals}, not ${principal}`);
    } else if (line.namespaces !== undefined && matchPatternList(sig.namespace, line.namespaces) !== 1) {
      refusals.push(`${line.source} line ${line.line} allows it only in namespaces ${line.namespaces}`);
    } else if (line.validAfter && now < line.validAfter) {
      refusals.push(`${line.source} line ${line.line}: the key is valid only from ${line.validAfter.toISOString()}`);
    } else if (line.validBefore && now > line.validBefore) {
      refusals.push(`${line.source} line ${line.line}: the key expired at ${line.validBefore.toISOString()}`);
    } else {
      return { ok: true, signer: principal, keyFingerprint: fingerprint, format: 'ssh' };
    }
  }
  return { ok: false, reason: 'signer-not-allowed', message: `SSH key ${fingerprint} is not allowed to sign for ${principal}: ${refusals.join('; ')}` };
}

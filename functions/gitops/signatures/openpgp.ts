// OpenPGP with openpgp.js: reading the allowed public keys, and verifying a commit's armored
// detached signature (`gpg -bsa`, what git writes) over the signed bytes. The key must be valid
// (not expired, not revoked) at the time of verification, and the committer's e-mail must be one
// of the key's valid user ids' e-mails.
import * as openpgp from 'openpgp';
import { LIMITS, type PgpAllowedSigner, type SignatureCheck } from './types.ts';

/** How far in the future a signature's creation time may be (the signer's clock ahead of ours). */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Reads the public keys of one armored block. Throws with openpgp.js's message on a bad block. */
export async function readPgpKeyBlock(armored: string, maxKeys: number): Promise<Omit<PgpAllowedSigner, 'line' | 'source'>[]> {
  const keys = await openpgp.readKeys({ armoredKeys: armored });
  if (keys.length > maxKeys) throw new Error(`${keys.length} keys in one block, at most ${maxKeys}`);
  return keys.map((key) => {
    if (key.isPrivate()) throw new Error('a private key: only public keys belong here');
    const emails = [...new Set(key.users.map((u) => u.userID?.email?.toLowerCase() ?? '').filter((e) => e !== ''))];
    return { kind: 'openpgp' as const, key: key as openpgp.PublicKey, fingerprint: key.getFingerprint().toUpperCase(), emails };
  });
}

/** The e-mails of the user ids that are valid (self-certified, not revoked, not expired) at `now`. */
async function validEmails(key: openpgp.PublicKey, now: Date): Promise<Set<string>> {
  const out = new Set<string>();
  for (const user of key.users) {
    const email = user.userID?.email;
    if (!email) continue;
    try {
      await user.verify(now);
      out.add(email.toLowerCase());
    } catch {
      // A revoked or expired user id signs for no one.
    }
  }
  return out;
}

/**
 * Verifies an armored OpenPGP detached signature over `payload` (its UTF-8 bytes, as git signed
 * them) against the allowed keys, for `email` (compared case-insensitively).
 */
export async function verifyOpenPgp(
  payload: string, armoredSignature: string, allowed: PgpAllowedSigner[], email: string, now: Date,
): Promise<SignatureCheck> {
  if (armoredSignature.length > LIMITS.signatureChars) {
    return { ok: false, reason: 'bad-signature', message: `the OpenPGP signature has ${armoredSignature.length} characters, at most ${LIMITS.signatureChars}` };
  }
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature });
  } catch (e) {
    return { ok: false, reason: 'bad-signature', message: `not a readable OpenPGP signature: ${(e as Error).message}` };
  }
  const packets = [...signature.packets];
  if (packets.length !== 1) {
    return { ok: false, reason: 'unsupported', message: `an OpenPGP signature with ${packets.length} signature packets (git writes one)` };
  }
  const type = packets[0].signatureType;
  if (type !== openpgp.enums.signature.binary && type !== openpgp.enums.signature.text) {
    return { ok: false, reason: 'bad-signature', message: `an OpenPGP signature of type ${type}, not a document signature` };
  }
  const issuer = packets[0].issuerKeyID;
  // A signer's clock a little ahead must not fail a push verified the moment it arrives.
  const created = packets[0].created;
  const at = created && created > now && created.getTime() - now.getTime() <= CLOCK_SKEW_MS ? created : now;
  const candidates = allowed.filter((a) => a.key.getKeys(issuer).length > 0);
  if (candidates.length === 0) {
    return { ok: false, reason: 'unknown-key', message: `signed with OpenPGP key ${issuer.toHex().toUpperCase()}, which is not among the allowed signers` };
  }
  const payloadBytes = Buffer.from(payload, 'utf8');
  let lastFailure: SignatureCheck | undefined;
  for (const c of candidates) {
    const label = `OpenPGP key ${c.fingerprint}`;
    try {
      await c.key.verifyPrimaryKey(at);
    } catch (e) {
      lastFailure = { ok: false, reason: 'signer-not-allowed', message: `${label} is not valid now: ${(e as Error).message}` };
      continue;
    }
    try {
      await c.key.getSigningKey(issuer, at);
    } catch (e) {
      lastFailure = { ok: false, reason: 'signer-not-allowed', message: `${label} cannot sign now: ${(e as Error).message}` };
      continue;
    }
    try {
      const message = await openpgp.createMessage({ binary: payloadBytes });
      const result = await openpgp.verify({ message, signature, verificationKeys: [c.key], date: at, format: 'binary' });
      await result.signatures[0].verified;
    } catch (e) {
      lastFailure = { ok: false, reason: 'bad-signature', message: `the signature by ${label} does not verify: ${(e as Error).message}` };
      continue;
    }
    const emails = await validEmails(c.key, at);
    if (!emails.has(email.toLowerCase())) {
      const list = [...emails].join(', ') || 'none';
      lastFailure = { ok: false, reason: 'signer-not-allowed', message: `${label} may sign for ${list}, not for the committer ${email}` };
      continue;
    }
    return { ok: true, signer: email, keyFingerprint: c.fingerprint, format: 'openpgp' };
  }
  return lastFailure!;
}

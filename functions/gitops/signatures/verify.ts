// Commit signature verification for the signed-commits gate (NEXUS_REQUIRE_SIGNED_COMMITS), in
// process: SSH signatures with node:crypto, OpenPGP with openpgp.js, against the allowed signers.
//
// Whose e-mail: the committer's, read from the signed payload itself. The committer is who made
// and signed the commit object (an author's commit rebased or cherry-picked by someone else is
// signed by that someone); GitHub's "verified" also matches the committer. `git verify-commit`
// only looks the key up in allowed_signers; Nexus also requires the line's principals to match
// that e-mail, as `ssh-keygen -Y verify -I <committer e-mail>` does.
//
// When: keys are checked at `now` (valid-after / valid-before, OpenPGP expiry and revocation),
// not at the committer date, which the signer writes and could backdate past a retired key.
//
// Which commit: payload and signature must rebuild the commit's own id, so a signature of another
// commit (another tree) cannot be paired with the one that gets applied.
import type { CommitInfo } from '../../platform/git-host/types.ts';
import { payloadCommitterEmail, signedCommitObjectId, type ObjectFormat } from './commit-object.ts';
import { verifyOpenPgp } from './openpgp.ts';
import { verifySsh } from './ssh.ts';
import { LIMITS, type AllowedSigners, type SignatureCheck, type SignatureFailureReason } from './types.ts';

export type { AllowedSigners, SignatureCheck, SignatureFailureReason } from './types.ts';
export { parseAllowedSigners, mergeAllowedSigners, AllowedSignersError } from './allowed-signers.ts';
export { splitSignedCommit } from './commit-object.ts';

/** The namespace git signs commits in (`ssh-keygen -Y sign -n git`). */
export const GIT_NAMESPACE = 'git';

/**
 * Verifies one commit's signature. Never throws: bad input is a failure with a message, and an
 * unexpected error fails closed (a bad signature), so the gate never applies an unchecked commit.
 */
export async function verifyCommit(commit: CommitInfo, signers: AllowedSigners, now: Date = new Date()): Promise<SignatureCheck> {
  try {
    return await check(commit, signers, now);
  } catch (e) {
    return { ok: false, reason: 'bad-signature', message: `the signature cannot be checked: ${(e as Error).message}` };
  }
}

async function check(commit: CommitInfo, signers: AllowedSigners, now: Date): Promise<SignatureCheck> {
  if (!commit.signed) return { ok: false, reason: 'no-signature', message: 'the commit is not signed (or the Git host does not give its signature)' };
  const { payload, signature } = commit.signed;
  if (Buffer.byteLength(payload, 'utf8') > LIMITS.payloadBytes) {
    return { ok: false, reason: 'unsupported', message: `the signed commit is over ${LIMITS.payloadBytes} bytes` };
  }
  if (signature.length > LIMITS.signatureChars) {
    return { ok: false, reason: 'bad-signature', message: `the signature has ${signature.length} characters, at most ${LIMITS.signatureChars}` };
  }
  const format: ObjectFormat | undefined = /^[0-9a-f]{40}$/.test(commit.sha) ? 'sha1' : /^[0-9a-f]{64}$/.test(commit.sha) ? 'sha256' : undefined;
  if (!format) return { ok: false, reason: 'bad-signature', message: `'${commit.sha.slice(0, 80)}' is not a commit id, so the signature cannot be tied to it` };
  // The signature must be over this very commit (its tree is what gets applied), not another one.
  const rebuilt = signedCommitObjectId(payload, signature, format);
  if (rebuilt !== commit.sha) {
    return { ok: false, reason: 'bad-signature', message: `the signed payload and signature make commit ${rebuilt.slice(0, 12)}, not ${commit.sha.slice(0, 12)}` };
  }
  const email = payloadCommitterEmail(payload);
  if (email === undefined) return { ok: false, reason: 'bad-signature', message: 'the signed payload has no committer header' };
  if (commit.committer.email && commit.committer.email !== email) {
    return { ok: false, reason: 'bad-signature', message: `the signed committer <${email}> differs from the commit's <${commit.committer.email}>` };
  }
  const sig = signature.trimStart();
  if (sig.startsWith('-----BEGIN SSH SIGNATURE-----')) return verifySsh(payload, signature, signers.ssh, email, now, GIT_NAMESPACE);
  if (sig.startsWith('-----BEGIN PGP SIGNATURE-----')) return verifyOpenPgp(payload, signature, signers.openpgp, email, now);
  if (sig.startsWith('-----BEGIN SIGNED MESSAGE-----')) {
    return { ok: false, reason: 'unsupported', message: 'an X.509 (S/MIME, gitsign) signature: Nexus verifies SSH and OpenPGP signatures' };
  }
  return { ok: false, reason: 'unsupported', message: `an unknown signature format '${sig.split('\n', 1)[0].slice(0, 60)}'` };
}

export type CommitSignatureResult = { commit: string } & SignatureCheck;

const REASONS: Record<SignatureFailureReason, string> = {
  'no-signature': 'no signature',
  'unknown-key': 'unknown key',
  'bad-signature': 'bad signature',
  'signer-not-allowed': 'signer not allowed for that e-mail',
  unsupported: 'unsupported signature',
};

/** One line naming the commit and why it is refused (for UNSIGNED_COMMIT); undefined when it verified. */
export function signatureFailureText(r: CommitSignatureResult): string | undefined {
  return r.ok ? undefined : `commit ${r.commit.slice(0, 12)}: ${REASONS[r.reason]}: ${r.message}`;
}

/** Verifies each commit (in the order given); the caller blocks on any `ok: false`. */
export async function verifyCommits(commits: CommitInfo[], signers: AllowedSigners, now: Date = new Date()): Promise<CommitSignatureResult[]> {
  const out: CommitSignatureResult[] = [];
  for (const c of commits) out.push({ commit: c.sha, ...(await verifyCommit(c, signers, now)) });
  return out;
}

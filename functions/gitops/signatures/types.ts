// The shapes the signature modules share: the parsed allowed signers and a verification's outcome.
import type { PublicKey } from 'openpgp';
import type { SshPublicKey } from './ssh-wire.ts';

/** One allowed_signers line (ssh-keygen's format). */
export interface SshAllowedSigner {
  kind: 'ssh';
  /** Where the line came from (the setting's name or a file path), for messages. */
  source: string;
  /** 1-based line in the allowed signers text. */
  line: number;
  /** The principals pattern list as written (quotes removed), matched as ssh-keygen does. */
  principals: string;
  /** The `namespaces="..."` pattern list; undefined: any namespace. */
  namespaces?: string;
  validAfter?: Date;
  validBefore?: Date;
  key: SshPublicKey;
  /** `SHA256:...` as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** One OpenPGP public key found in an armored block of the allowed signers text. */
export interface PgpAllowedSigner {
  kind: 'openpgp';
  source: string;
  /** The line of the block's `-----BEGIN PGP PUBLIC KEY BLOCK-----`. */
  line: number;
  key: PublicKey;
  /** Primary key fingerprint, upper-case hex. */
  fingerprint: string;
  /** The e-mails of the key's user ids (lower-case), as read; validity is checked at verification. */
  emails: string[];
}

export interface AllowedSigners {
  ssh: SshAllowedSigner[];
  openpgp: PgpAllowedSigner[];
  /** Lines that are valid for ssh-keygen but that Nexus ignores (cert-authority, DSA, certificates), with why. */
  findings: string[];
}

export type SignatureFailureReason = 'no-signature' | 'unknown-key' | 'bad-signature' | 'signer-not-allowed' | 'unsupported';

export type SignatureCheck =
  | { ok: true; signer: string; keyFingerprint: string; format: 'ssh' | 'openpgp' }
  | { ok: false; reason: SignatureFailureReason; message: string };

/** Size limits on what is parsed (allowed signers text, signatures, signed payloads). */
export const LIMITS = {
  allowedSignersChars: 1024 * 1024,
  allowedSignersLines: 10_000,
  lineChars: 16 * 1024,
  pgpBlocks: 100,
  pgpBlockChars: 512 * 1024,
  pgpKeysPerBlock: 20,
  signatureChars: 64 * 1024,
  payloadBytes: 8 * 1024 * 1024,
} as const;

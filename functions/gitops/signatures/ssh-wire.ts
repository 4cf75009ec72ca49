// SSH wire encoding (RFC 4251 §5) as the sshsig format and allowed_signers keys use it, and the
// conversion of an SSH public key blob into a node:crypto KeyObject (through JWK, so no DER is
// hand-built). Only what signature verification needs.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** Thrown for a blob that does not follow the wire format; the message says what is wrong. */
export class SshWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshWireError';
  }
}

/** Reads uint32 and length-prefixed strings from a buffer, never past its end. */
export class WireReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  bytes(n: number, what: string): Buffer {
    if (n > this.remaining) throw new SshWireError(`${what}: needs ${n} bytes, ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  uint32(what: string): number {
    return this.bytes(4, what).readUInt32BE(0);
  }

  string(what: string): Buffer {
    return this.bytes(this.uint32(what), what);
  }

  /** A string that must be printable ASCII (names, namespaces, algorithm names). */
  text(what: string): string {
    const b = this.string(what);
    if (b.length > 256 || !/^[\x20-\x7e]*$/.test(b.toString('latin1'))) throw new SshWireError(`${what}: not a short printable name`);
    return b.toString('latin1');
  }

  end(what: string): void {
    if (this.remaining !== 0) throw new SshWireError(`${what}: ${this.remaining} bytes of trailing data`);
  }
}

/** The key types Nexus verifies; others are recognised by name and refused as unsupported. */
export const VERIFIABLE_KEY_TYPES: ReadonlySet<string> = new Set([
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
]);
/** Valid in allowed_signers (ssh-keygen reads them) but not verified here. */
export const KNOWN_UNSUPPORTED_KEY_TYPES: ReadonlySet<string> = new Set(['ssh-dss']);

const SK_ED25519 = 'sk-ssh-ed25519@openssh.com';
const SK_ECDSA = 'sk-ecdsa-sha2-nistp256@openssh.com';
/** SSH_SK_USER_PRESENCE_REQD: the authenticator was touched for this signature. */
const SK_USER_PRESENT = 0x01;

export const MIN_RSA_BITS = 2048;

const CURVES: ReadonlyMap<string, { crv: string; size: number; hash: string }> = new Map([
  ['nistp256', { crv: 'P-256', size: 32, hash: 'sha256' }],
  ['nistp384', { crv: 'P-384', size: 48, hash: 'sha384' }],
  ['nistp521', { crv: 'P-521', size: 66, hash: 'sha512' }],
]);

export interface SshPublicKey {
  type: string;
  /** The wire blob as it appears in the signature and in allowed_signers (base64 there). */
  blob: Buffer;
  key: KeyObject;
  /** For ECDSA: the hash the signature algorithm uses. */
  ecdsaHash?: string;
  /** For ECDSA: the byte size of r and s; for RSA: of the modulus. */
  size?: number;
  /** For FIDO (`sk-`) keys: the application string (usually `ssh:`) the authenticator signs over. */
  skApplication?: string;
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** An mpint's magnitude without sign padding; refuses negative numbers. */
export function mpintMagnitude(b: Buffer, what: string): Buffer {
  if (b.length > 0 && (b[0] & 0x80) !== 0) throw new SshWireError(`${what}: negative mpint`);
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

function leftPad(b: Buffer, size: number, what: string): Buffer {
  if (b.length > size) throw new SshWireError(`${what}: ${b.length} bytes, at most ${size}`);
  return Buffer.concat([Buffer.alloc(size - b.length), b]);
}

/** Parses a public key blob of a verifiable type into a KeyObject. Throws SshWireError. */
export function parsePublicKeyBlob(blob: Buffer): SshPublicKey {
  const r = new WireReader(blob);
  const type = r.text('public key type');
  if (!VERIFIABLE_KEY_TYPES.has(type)) throw new SshWireError(`public key type '${type}' is not supported`);
  if (type === 'ssh-ed25519' || type === SK_ED25519) {
    const x = r.string('ed25519 public key');
    const skApplication = type === SK_ED25519 ? r.text('sk application') : undefined;
    r.end('ed25519 public key');
    if (x.length !== 32) throw new SshWireError(`ed25519 public key: ${x.length} bytes, not 32`);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }, format: 'jwk' });
    return { type, blob, key, ...(skApplication !== undefined ? { skApplication } : {}) };
  }
  if (type === 'ssh-rsa') {
    const e = mpintMagnitude(r.string('rsa exponent'), 'rsa exponent');
    const n = mpintMagnitude(r.string('rsa modulus'), 'rsa modulus');
    r.end('rsa public key');
    const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0]));
    if (bits < MIN_RSA_BITS) throw new SshWireError(`rsa key of ${bits} bits: at least ${MIN_RSA_BITS} are required`);
    if (bits > 16384) throw new SshWireError(`rsa key of ${bits} bits: at most 16384 are accepted`);
    if (e.length === 0 || e.length > 8) throw new SshWireError('rsa exponent out of range');
    const key = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
    return { type, blob, key, size: n.length };
  }
  const curveName = type === SK_ECDSA ? 'nistp256' : type.slice('ecdsa-sha2-'.length);
  const curve = CURVES.get(curveName)!;
  const inner = r.text('ecdsa curve');
  if (inner !== curveName) throw new SshWireError(`ecdsa key of type ${type} names curve '${inner}'`);
  const q = r.string('ecdsa point');
  const skApplication = type === SK_ECDSA ? r.text('sk application') : undefined;
  r.end('ecdsa public key');
  if (q.length !== 1 + 2 * curve.size || q[0] !== 0x04) throw new SshWireError('ecdsa point: not an uncompressed point of the curve');
  const x = q.subarray(1, 1 + curve.size);
  const y = q.subarray(1 + curve.size);
  try {
    const key = createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' });
    return { type, blob, key, ecdsaHash: curve.hash, size: curve.size, ...(skApplication !== undefined ? { skApplication } : {}) };
  } catch {
    throw new SshWireError('ecdsa point: not on the curve');
  }
}

/** The key type named at the start of a blob (without parsing the rest). */
export function blobKeyType(blob: Buffer): string {
  return new WireReader(blob).text('public key type');
}

export interface CryptoVerify {
  /** node:crypto's digest name; null for Ed25519. */
  digest: string | null;
  /** The bytes the key signed. */
  data: Buffer;
  signature: Buffer;
  dsaEncoding?: 'ieee-p1363';
}

/**
 * Turns an SSH signature blob (`string alg, string sig`, plus `byte flags, uint32 counter` for
 * FIDO keys) by `key` over `data` into what node:crypto's verify takes. Throws SshWireError.
 */
export function prepareVerify(key: SshPublicKey, sigBlob: Buffer, data: Buffer): CryptoVerify {
  const r = new WireReader(sigBlob);
  const alg = r.text('signature algorithm');
  const raw = r.string('signature');
  let signed = data;
  if (key.skApplication !== undefined) {
    // PROTOCOL.u2f: the authenticator signs H(application) || flags || counter || H(data).
    const flags = r.bytes(1, 'sk flags');
    const counter = r.bytes(4, 'sk counter');
    if ((flags[0] & SK_USER_PRESENT) === 0) throw new SshWireError('the security key signed without user presence (no touch)');
    const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();
    signed = Buffer.concat([sha256(key.skApplication), flags, counter, sha256(data)]);
  }
  r.end('signature');
  if (key.type === 'ssh-ed25519' || key.type === SK_ED25519) {
    if (alg !== key.type) throw new SshWireError(`signature algorithm '${alg}' does not fit an ${key.type} key`);
    if (raw.length !== 64) throw new SshWireError(`ed25519 signature: ${raw.length} bytes, not 64`);
    return { digest: null, data: signed, signature: raw };
  }
  if (key.type === 'ssh-rsa') {
    // As sshsig.c: the legacy SHA-1 `ssh-rsa` signature algorithm is refused.
    const digest = alg === 'rsa-sha2-256' ? 'sha256' : alg === 'rsa-sha2-512' ? 'sha512' : undefined;
    if (!digest) throw new SshWireError(`rsa signature algorithm '${alg}' is refused (rsa-sha2-256 or rsa-sha2-512 only)`);
    // Signers may drop leading zero bytes of S; node wants the modulus length.
    return { digest, data: signed, signature: leftPad(raw, key.size!, 'rsa signature') };
  }
  if (alg !== key.type) throw new SshWireError(`signature algorithm '${alg}' does not fit an ${key.type} key`);
  const rs = new WireReader(raw);
  const rr = mpintMagnitude(rs.string('ecdsa r'), 'ecdsa r');
  const ss = mpintMagnitude(rs.string('ecdsa s'), 'ecdsa s');
  rs.end('ecdsa signature');
  const signature = Buffer.concat([leftPad(rr, key.size!, 'ecdsa r'), leftPad(ss, key.size!, 'ecdsa s')]);
  return { digest: key.ecdsaHash!, data: signed, signature, dsaEncoding: 'ieee-p1363' };
}

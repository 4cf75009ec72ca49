// Parses NEXUS_ALLOWED_SIGNERS: lines in ssh-keygen's allowed_signers format (man ssh-keygen,
// "ALLOWED SIGNERS") and armored OpenPGP public key blocks anywhere in the text. A bad line is an
// error naming its line; lines ssh-keygen accepts but Nexus cannot verify (cert-authority, DSA,
// certificates) are ignored with a finding, which only ever trusts less.
import { readPgpKeyBlock } from './openpgp.ts';
import {
  blobKeyType, KNOWN_UNSUPPORTED_KEY_TYPES, parsePublicKeyBlob, sshFingerprint, SshWireError, VERIFIABLE_KEY_TYPES,
} from './ssh-wire.ts';
import { LIMITS, type AllowedSigners, type PgpAllowedSigner, type SshAllowedSigner } from './types.ts';

/** A bad allowed signers text; `line` is 1-based when one line is at fault. */
export class AllowedSignersError extends Error {
  constructor(readonly source: string, readonly line: number | undefined, detail: string) {
    super(line === undefined ? `${source}: ${detail}` : `${source} line ${line}: ${detail}`);
    this.name = 'AllowedSignersError';
  }
}

const PGP_BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const PGP_END = '-----END PGP PUBLIC KEY BLOCK-----';

/**
 * Parses the allowed signers text. `source` names it in errors and findings (the setting, or the
 * file of NEXUS_ALLOWED_SIGNERS_FILE). Throws AllowedSignersError.
 */
export async function parseAllowedSigners(text: string, opts: { source?: string } = {}): Promise<AllowedSigners> {
  const source = opts.source ?? 'NEXUS_ALLOWED_SIGNERS';
  if (text.length > LIMITS.allowedSignersChars) {
    throw new AllowedSignersError(source, undefined, `${text.length} characters, at most ${LIMITS.allowedSignersChars}`);
  }
  const lines = text.split('\n');
  if (lines.length > LIMITS.allowedSignersLines) {
    throw new AllowedSignersError(source, undefined, `${lines.length} lines, at most ${LIMITS.allowedSignersLines}`);
  }
  const out: AllowedSigners = { ssh: [], openpgp: [], findings: [] };
  const blocks: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === PGP_BEGIN) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === PGP_END);
      if (end < 0) throw new AllowedSignersError(source, lineNo, `${PGP_BEGIN} without ${PGP_END}`);
      if (blocks.length >= LIMITS.pgpBlocks) throw new AllowedSignersError(source, lineNo, `more than ${LIMITS.pgpBlocks} OpenPGP key blocks`);
      // Indentation (a block pasted into YAML or an env file) is not part of the armor.
      const block = lines.slice(i, end + 1).map((l) => l.trim()).join('\n');
      if (block.length > LIMITS.pgpBlockChars) throw new AllowedSignersError(source, lineNo, `OpenPGP key block of ${block.length} characters, at most ${LIMITS.pgpBlockChars}`);
      blocks.push({ line: lineNo, text: block });
      i = end;
      continue;
    }
    if (trimmed.startsWith('-----BEGIN PGP PRIVATE KEY BLOCK')) {
      throw new AllowedSignersError(source, lineNo, 'an OpenPGP private key: only public keys (-----BEGIN PGP PUBLIC KEY BLOCK-----) belong here');
    }
    if (trimmed.startsWith('-----')) throw new AllowedSignersError(source, lineNo, `unexpected armor line '${trimmed.slice(0, 60)}'`);
    if (line.length > LIMITS.lineChars) throw new AllowedSignersError(source, lineNo, `${line.length} characters, at most ${LIMITS.lineChars}`);
    const parsed = parseSshLine(line, (detail) => new AllowedSignersError(source, lineNo, detail));
    if (parsed === undefined) continue;
    if (typeof parsed === 'string') out.findings.push(`${source} line ${lineNo}: ${parsed}; the line is ignored`);
    else out.ssh.push({ ...parsed, source, line: lineNo });
  }
  for (const b of blocks) {
    let keys: Omit<PgpAllowedSigner, 'line' | 'source'>[];
    try {
      keys = await readPgpKeyBlock(b.text, LIMITS.pgpKeysPerBlock);
    } catch (e) {
      throw new AllowedSignersError(source, b.line, `OpenPGP key block: ${(e as Error).message}`);
    }
    for (const k of keys) {
      if (k.emails.length === 0) out.findings.push(`${source} line ${b.line}: OpenPGP key ${k.fingerprint} has no user id with an e-mail, so it can sign for no one`);
      out.openpgp.push({ ...k, source, line: b.line });
    }
  }
  return out;
}

/** Several allowed signers texts as one (NEXUS_ALLOWED_SIGNERS and the file of NEXUS_ALLOWED_SIGNERS_FILE). */
export function mergeAllowedSigners(...sets: AllowedSigners[]): AllowedSigners {
  return {
    ssh: sets.flatMap((s) => s.ssh),
    openpgp: sets.flatMap((s) => s.openpgp),
    findings: sets.flatMap((s) => s.findings),
  };
}

type Fail = (detail: string) => Error;

/**
 * One allowed_signers line: undefined for blank and comment lines, a string (why) for a line that
 * is ignored, the signer otherwise. Throws through `fail` for a bad line.
 */
function parseSshLine(line: string, fail: Fail): Omit<SshAllowedSigner, 'line' | 'source'> | string | undefined {
  let rest = line.replace(/^[ \t]+/, '');
  if (rest === '' || rest.startsWith('#')) return undefined;

  // Principals: one word, or a double-quoted string (which may hold spaces).
  let principals: string;
  if (rest.startsWith('"')) {
    const close = rest.indexOf('"', 1);
    if (close < 0) throw fail('the quoted principals have no closing quote');
    principals = rest.slice(1, close);
    rest = rest.slice(close + 1);
    if (rest !== '' && !/^[ \t]/.test(rest)) throw fail('the quoted principals must be followed by a space');
  } else {
    const m = /^[^ \t]+/.exec(rest)!;
    principals = m[0];
    rest = rest.slice(m[0].length);
  }
  if (principals === '') throw fail('empty principals');
  rest = rest.replace(/^[ \t]+/, '');
  if (rest === '') throw fail('a key is missing after the principals');

  // Options, when the next word is not a key type (as ssh-keygen: it tries to read a key first).
  let options: Options = {};
  let word = /^[^ \t]+/.exec(rest)![0];
  if (!isKeyTypeName(word)) {
    const opt = readOptionsWord(rest, fail);
    options = parseOptions(opt, fail);
    rest = rest.slice(opt.length).replace(/^[ \t]+/, '');
    if (rest === '') throw fail('a key is missing after the options');
    word = /^[^ \t]+/.exec(rest)![0];
    if (!isKeyTypeName(word)) throw fail(`unknown key type '${word.slice(0, 60)}'`);
  }
  const keyType = word;
  rest = rest.slice(word.length).replace(/^[ \t]+/, '');
  const b64 = /^[^ \t]*/.exec(rest)![0]; // anything after it is the key's comment
  if (b64 === '') throw fail(`the ${keyType} key has no base64 data`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw fail(`the ${keyType} key is not valid base64`);
  const blob = Buffer.from(b64, 'base64');

  let inner: string;
  try {
    inner = blobKeyType(blob);
  } catch (e) {
    throw fail(`the ${keyType} key cannot be read: ${(e as Error).message}`);
  }
  if (inner !== keyType) throw fail(`the key says type '${inner}', the line '${keyType}'`);
  if (options.certAuthority) return 'cert-authority keys are not supported (Nexus does not verify signatures made with SSH certificates)';
  if (!VERIFIABLE_KEY_TYPES.has(keyType)) return `${keyType} keys are not supported`;
  let key;
  try {
    key = parsePublicKeyBlob(blob);
  } catch (e) {
    if (e instanceof SshWireError) throw fail(`the ${keyType} key cannot be read: ${e.message}`);
    throw e;
  }
  return {
    kind: 'ssh',
    principals,
    ...(options.namespaces !== undefined ? { namespaces: options.namespaces } : {}),
    ...(options.validAfter ? { validAfter: options.validAfter } : {}),
    ...(options.validBefore ? { validBefore: options.validBefore } : {}),
    key,
    fingerprint: sshFingerprint(blob),
  };
}

function isKeyTypeName(word: string): boolean {
  return VERIFIABLE_KEY_TYPES.has(word) || KNOWN_UNSUPPORTED_KEY_TYPES.has(word) || /^[a-z0-9@.-]+-cert-v01@openssh\.com$/.test(word);
}

/** The options word: up to the first space or tab outside double quotes. */
function readOptionsWord(rest: string, fail: Fail): string {
  let quoted = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '\\' && quoted && rest[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) return rest.slice(0, i);
  }
  if (quoted) throw fail('the options have an unterminated quote');
  return rest;
}

interface Options {
  certAuthority?: boolean;
  namespaces?: string;
  validAfter?: Date;
  validBefore?: Date;
}

/** cert-authority, namespaces="...", valid-after="...", valid-before="..." (keywords case-insensitive). */
function parseOptions(word: string, fail: Fail): Options {
  const out: Options = {};
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === '\\' && quoted && word[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  for (const part of parts) {
    if (part === '') throw fail('an empty option (stray comma)');
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : dequote(part.slice(eq + 1), name, fail);
    if (name === 'cert-authority' && value === undefined) {
      out.certAuthority = true;
    } else if (name === 'namespaces' && value !== undefined) {
      if (out.namespaces !== undefined) throw fail('more than one namespaces option');
      if (value === '') throw fail('namespaces is empty');
      out.namespaces = value;
    } else if ((name === 'valid-after' || name === 'valid-before') && value !== undefined) {
      const field = name === 'valid-after' ? 'validAfter' : 'validBefore';
      if (out[field]) throw fail(`more than one ${name} option`);
      out[field] = parseSshTime(value, name, fail);
    } else {
      throw fail(`unknown or malformed option '${part.slice(0, 60)}' (cert-authority, namespaces="...", valid-after=..., valid-before=...)`);
    }
  }
  if (out.validAfter && out.validBefore && out.validBefore <= out.validAfter) throw fail('valid-before is not after valid-after');
  return out;
}

function dequote(v: string, name: string, fail: Fail): string {
  if (v.startsWith('"')) {
    if (v.length < 2 || !v.endsWith('"')) throw fail(`the value of ${name} has an unterminated quote`);
    return v.slice(1, -1);
  }
  if (v.includes('"')) throw fail(`the value of ${name} has a stray quote`);
  return v;
}

/**
 * ssh-keygen's timestamps: YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]. Without Z they are in the system
 * time zone, as ssh-keygen reads them (so both agree on the same machine).
 */
export function parseSshTime(v: string, name: string, fail: Fail): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/.exec(v);
  if (!m) throw fail(`${name} '${v.slice(0, 40)}' is not YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]`);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
  const date = m[7] === 'Z' ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
  const back = m[7] === 'Z'
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  if (back.join() !== [y, mo, d, h, mi, s].join()) throw fail(`${name} '${v}' is not a real date and time`);
  return date;
}

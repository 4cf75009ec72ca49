// A signed commit object, as `git cat-file commit` prints it: the signature lives in a `gpgsig`
// header (`gpgsig-sha256` in SHA-256 repositories) whose continuation lines start with a space;
// the signed payload is the object without it. Also: rebuilding the object id from payload and
// signature, so a host cannot pair a signature with another commit than the one applied.
import { createHash } from 'node:crypto';

export type ObjectFormat = 'sha1' | 'sha256';

const HEADER: Record<ObjectFormat, string> = { sha1: 'gpgsig', sha256: 'gpgsig-sha256' };

/**
 * Splits a raw commit object into the signed payload and the signature, as git's
 * parse_buffer_signed_by_header does: the signature header of the repository's object format
 * (`sha1`: `gpgsig`; `sha256`: `gpgsig-sha256`; default: whichever is there, `gpgsig` first) is
 * taken out, any other `gpgsig*` header is dropped from the payload too, the message is untouched.
 * Undefined when the object carries no such signature.
 */
export function splitSignedCommit(raw: string, format?: ObjectFormat): { payload: string; signature: string } | undefined {
  const want = format ? HEADER[format] : /^gpgsig /m.test(headerOf(raw)) ? 'gpgsig' : 'gpgsig-sha256';
  let payload = '';
  let signature = '';
  let inSignature = false;
  let inOther = false;
  let found = false;
  let pos = 0;
  while (pos < raw.length) {
    const nl = raw.indexOf('\n', pos);
    const next = nl < 0 ? raw.length : nl + 1;
    const line = raw.slice(pos, next);
    if (line === '\n' || line === '') {
      payload += raw.slice(pos); // the blank line and the message, as they are
      break;
    }
    if (inSignature && line.startsWith(' ')) {
      signature += line.slice(1);
    } else if (line.startsWith(`${want} `)) {
      signature += line.slice(want.length + 1);
      inSignature = true;
      inOther = false;
      found = true;
    } else if (line.startsWith('gpgsig')) {
      inSignature = false;
      inOther = true;
    } else if (inOther && line.startsWith(' ')) {
      // A continuation of a signature of the other object format: not part of the payload.
    } else {
      inSignature = false;
      inOther = false;
      payload += line;
    }
    pos = next;
  }
  if (!found) return undefined;
  if (!signature.endsWith('\n')) signature += '\n';
  return { payload, signature };
}

function headerOf(raw: string): string {
  const end = raw.indexOf('\n\n');
  return end < 0 ? raw : raw.slice(0, end + 1);
}

/**
 * The object id of the commit made by putting `signature` back into `payload` where git puts it
 * (the last header, before the blank line). Equal to the commit's sha for commits signed by git
 * or by GitHub; a commit with signatures for both object formats does not rebuild.
 */
export function signedCommitObjectId(payload: string, signature: string, format: ObjectFormat): string {
  const sigLines = signature.replace(/\n$/, '').split('\n');
  const header = `${HEADER[format]} ${sigLines.join('\n ')}\n`;
  const end = payload.indexOf('\n\n');
  const at = end < 0 ? payload.length : end + 1;
  const body = Buffer.from(payload.slice(0, at) + header + payload.slice(at), 'utf8');
  return createHash(format === 'sha1' ? 'sha1' : 'sha256')
    .update(`commit ${body.length}\0`)
    .update(body)
    .digest('hex');
}

/** The committer's e-mail from the payload's own `committer` header (what was signed). */
export function payloadCommitterEmail(payload: string): string | undefined {
  const m = /^committer [^\n<]*<([^>\n]*)> \d+ [+-]\d{4}$/m.exec(headerOf(payload));
  return m?.[1];
}

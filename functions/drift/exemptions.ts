// Expired policy exemptions: what the drift report lists, and the archetype edit its pull request
// proposes (the exemption removed from the YAML, every other byte of the file kept).
import { isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node, type YAMLSeq } from 'yaml';
import type { DesiredState } from '../../stacks/compile/model.ts';

export interface ExpiredExemption {
  id: string;
  name: string;
  /** As compiled (UTC, ISO 8601). */
  expiresOn: string;
  stack: string;
  source: { file: string; archetype?: string; managementGroup?: string };
}

/** The exemptions of the DesiredState whose expiry is at or before `now`, oldest first. */
export function expiredExemptions(state: DesiredState, now: Date): ExpiredExemption[] {
  const out: ExpiredExemption[] = [];
  for (const r of state.resources) {
    if (r.kind !== 'policyExemption') continue;
    const expiresOn = r.body.properties.expiresOn;
    if (typeof expiresOn !== 'string') continue;
    const at = Date.parse(expiresOn);
    if (Number.isNaN(at) || at > now.getTime()) continue;
    out.push({ id: r.id, name: r.name, expiresOn, stack: r.stack, source: { ...r.source } });
  }
  return out.sort((a, b) => Date.parse(a.expiresOn) - Date.parse(b.expiresOn) || a.id.localeCompare(b.id));
}

/** Archetype files are small; anything larger is refused rather than parsed. */
export const MAX_ARCHETYPE_BYTES = 1024 * 1024;

export interface RemoveExemptionOptions {
  /** The archetype (metadata.name) to edit when the file holds several documents. */
  archetype?: string;
}

/**
 * The archetype YAML without the exemption `name` (its `spec.exemptions` item, with the comment
 * lines directly above it; the `exemptions:` key too when it was the only one). Everything else is
 * kept as written. Returns the text unchanged when no such exemption is there (already removed).
 */
export function removeExemptionEdit(text: string, name: string, opts: RemoveExemptionOptions = {}): string {
  if (Buffer.byteLength(text) > MAX_ARCHETYPE_BYTES) throw new Error(`archetype file is larger than ${MAX_ARCHETYPE_BYTES} bytes`);
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) throw new Error(`archetype YAML does not parse: ${err.message.split('\n')[0]}`);
  }
  for (const doc of list) {
    if (opts.archetype !== undefined && doc.getIn(['metadata', 'name']) !== opts.archetype) continue;
    const seq = doc.getIn(['spec', 'exemptions'], true);
    if (!isSeq(seq)) continue;
    const index = seq.items.findIndex((it) => isMap(it) && it.get('name') === name);
    if (index < 0) continue;
    const edited = splice(text, doc, seq as YAMLSeq<Node>, index);
    // The splice is checked: the same data without the item, or the Document API's own rendering.
    return sameWithout(edited, list, doc, index) ? edited : rendered(list, doc, index);
  }
  return text;
}

const lineStart = (text: string, at: number) => text.lastIndexOf('\n', at - 1) + 1;
const lineEnd = (text: string, at: number) => {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
};
const indentOf = (line: string) => /^[ \t]*/.exec(line)![0].length;

/** Start of the comment lines directly above `start` (same indentation), for removal with it. */
function withCommentsAbove(text: string, start: number): number {
  const indent = indentOf(text.slice(start, lineEnd(text, start)));
  let s = start;
  while (s > 0) {
    const prev = lineStart(text, s - 1);
    const line = text.slice(prev, s).replace(/\r?\n$/, '');
    if (!/^[ \t]*#/.test(line) || indentOf(line) !== indent) break;
    s = prev;
  }
  return s;
}

/** Blank lines from `at` on. */
function blankLinesAfter(text: string, at: number): number {
  let e = at;
  for (;;) {
    const next = lineEnd(text, e);
    if (next === e || text.slice(e, next).trim() !== '') return e;
    e = next;
  }
}

/** Blank lines ending at `at`. */
function blankLinesBefore(text: string, at: number): number {
  let s = at;
  while (s > 0) {
    const prev = lineStart(text, s - 1);
    if (text.slice(prev, s).trim() !== '') return s;
    s = prev;
  }
  return s;
}

function splice(text: string, doc: Document.Parsed, seq: YAMLSeq<Node>, index: number): string {
  const item = seq.items[index]!;
  if (seq.items.length === 1) {
    // The only exemption: the `exemptions:` key goes with it.
    const spec = doc.get('spec', true);
    const pair = isMap(spec) ? spec.items.find((p) => isScalar(p.key) && p.key.value === 'exemptions') : undefined;
    const keyAt = pair && isScalar(pair.key) && pair.key.range ? pair.key.range[0] : undefined;
    if (keyAt === undefined || !seq.range) return text;
    const start = withCommentsAbove(text, lineStart(text, keyAt));
    return text.slice(0, start) + text.slice(lineEnd(text, seq.range[1] - 1));
  }
  if (!item.range) return text;
  if (seq.flow) {
    // `[a, b, c]`: cut up to the next item, or from the previous one for the last.
    const next = seq.items[index + 1];
    if (next?.range) return text.slice(0, item.range[0]) + text.slice(next.range[0]);
    const prev = seq.items[index - 1]!;
    return prev.range ? text.slice(0, prev.range[1]) + text.slice(item.range[1]) : text;
  }
  let start = withCommentsAbove(text, lineStart(text, item.range[0]));
  let end = lineEnd(text, Math.max(item.range[0], item.range[2] - 1));
  // Keep the blank-line rhythm of the list: the first item takes the blank lines after it, others those before.
  if (index === 0) end = blankLinesAfter(text, end);
  else start = blankLinesBefore(text, start);
  return text.slice(0, start) + text.slice(end);
}

function expectedData(list: Document.Parsed[], target: Document.Parsed, index: number): unknown[] {
  return list.map((d) => {
    const js = d.toJS({ maxAliasCount: 100 });
    if (d !== target) return js;
    const ex = js.spec.exemptions as unknown[];
    ex.splice(index, 1);
    if (ex.length === 0) delete js.spec.exemptions;
    return js;
  });
}

function sameWithout(edited: string, list: Document.Parsed[], target: Document.Parsed, index: number): boolean {
  const again = parseAllDocuments(edited);
  const docs = Array.isArray(again) ? again : [again];
  if (docs.some((d) => d.errors.length)) return false;
  return JSON.stringify(docs.map((d) => d.toJS({ maxAliasCount: 100 }))) === JSON.stringify(expectedData(list, target, index));
}

/** The fallback: the Document API's rendering (keeps comments; may reflow spacing). */
function rendered(list: Document.Parsed[], target: Document.Parsed, index: number): string {
  const seq = target.getIn(['spec', 'exemptions']) as YAMLSeq;
  if (seq.items.length === 1) target.deleteIn(['spec', 'exemptions']);
  else target.deleteIn(['spec', 'exemptions', index]);
  return list.map((d) => d.toString({ lineWidth: 0 })).join('');
}

// Making text from a pull request (resource names, messages, property values) safe to place in the
// comment: it must not break the Markdown/HTML structure around it, inject HTML, or repeat the
// hidden marker that the comment is found again by.

/** Kept here (not in render.ts) so code blocks can defuse it without an import cycle. */
export const COMMENT_MARKER = '<!-- nexus:preview -->';
const DEFUSED_MARKER = '<!-\u200b- nexus:preview -->';

// Lone surrogates make the body invalid UTF-8 on the wire; NUL is replaced by Markdown anyway.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Bidirectional overrides can make a shown name read differently from what it is (Trojan Source).
const BIDI = /[\u202A-\u202E\u2066-\u2069]/g;
// Line breaks and other controls would end a table row, a list item or a heading.
const CONTROL = /[\u0000-\u001F\u007F\u0085\u2028\u2029]+/g;

// Characters that Markdown (GitHub's: tables, strikethrough, math) or HTML give a meaning.
// Numeric references work both in Markdown text and inside HTML blocks such as <summary>.
const SPECIAL = /[&<>"'`*_[\]|~\\#$]/g;

function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD').replace(/\u0000/g, '\uFFFD').replace(BIDI, '\uFFFD');
}

/** Any value as a string (never throws: symbols, cycles and BigInts included). */
export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  try { return String(v); } catch { return '[unprintable]'; }
}

/** Cuts to at most `max` UTF-16 units (an ellipsis included), never inside a surrogate pair. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let end = max - 1;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end -= 1;
  return `${s.slice(0, end)}…`;
}

/**
 * Inline text for Markdown or HTML context (table cell, list item, <summary>): one line, at most
 * `max` characters of the input, every meaningful character as a numeric character reference.
 */
export function text(v: unknown, max = 1000): string {
  const one = clip(wellFormed(str(v)).replace(CONTROL, ' '), max);
  // A zero-width space after @ keeps GitHub from notifying a user or team named in the input.
  return one.replace(SPECIAL, (c) => `&#${c.charCodeAt(0)};`).replace(/@/g, '@\u200B');
}

/** Inline monospace: <code> with escaped content (a Markdown code span could not hold `|` in a table). */
export function code(v: unknown, max = 1000): string {
  return `<code>${text(v, max)}</code>`;
}

/**
 * A fenced code block around raw text. The fence is longer than any run of backticks inside, so
 * no line of the content can close it; the marker is defused so the comment holds it only once.
 */
export function fenced(content: string, info = ''): string {
  const body = wellFormed(content).split(COMMENT_MARKER).join(DEFUSED_MARKER);
  let longest = 0;
  for (const m of body.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${body.endsWith('\n') ? body : `${body}\n`}${fence}`;
}

/** An http(s) URL fit for a Markdown link destination, or undefined. */
export function safeUrl(v: unknown, max = 1500): string | undefined {
  if (typeof v !== 'string' || v.length > max * 3) return undefined;
  let url: URL;
  try { url = new URL(v); } catch { return undefined; }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  // The serializer percent-encodes spaces, quotes and angle brackets; these remain meaningful
  // inside <...> link destinations.
  const href = url.href.replace(/[<>\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return href.length <= max ? href : undefined;
}

/** A count as shown: a non-negative integer (anything else counts as 0). */
export function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

/** "1 create" / "2 stacks": English plural by `s`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

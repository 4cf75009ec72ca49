// One glob syntax for every pattern Nexus takes from people (guardrail scopes, schedules, trusted
// repositories, CODEOWNERS): `**` any run of characters, `?` exactly one character other than '/',
// `*` any run within one path segment, or across segments where names hold no segments of their own
// (`star: 'any'`, e.g. ARM names and ids matched by guardrails). Everything else is literal.

export interface GlobOptions {
  /** `*` stops at '/' ('segment', file paths) or crosses it ('any', names and ARM ids). Default 'segment'. */
  star?: 'segment' | 'any';
}

/** The regular-expression source of a glob, unanchored (callers add the anchoring they need). */
export function globSource(pattern: string, opts: GlobOptions = {}): string {
  const star = opts.star === 'any' ? '.*' : '[^/]*';
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      // `**/` is zero or more whole segments (so `a/**/b` is `a/b` or `a/x/y/b`, never `a/xb`).
      if (pattern[i + 1] === '/') { re += '(?:.*/)?'; i++; } else re += '.*';
    }
    else if (c === '*') re += star;
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return re;
}

/** Whether the whole of `value` matches `pattern`, ignoring case (ARM names and GitHub names do). */
export function globMatch(pattern: string, value: string, opts: GlobOptions = { star: 'any' }): boolean {
  return new RegExp(`^${globSource(pattern, opts)}$`, 'i').test(value);
}

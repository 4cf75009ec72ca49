// OpenSSH pattern lists (ssh_config(5) PATTERNS) as ssh-keygen matches principals and namespaces
// in allowed_signers: comma-separated globs with `*` and `?`, a leading `!` negates, a negated
// match wins over any positive one, and matching is case-sensitive.

/** Glob match with `*` (any run) and `?` (one character); linear backtracking, no regular expressions. */
export function matchPattern(s: string, pattern: string): boolean {
  let si = 0;
  let pi = 0;
  let starPi = -1;
  let starSi = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === '?' || (pattern[pi] !== '*' && pattern[pi] === s[si]))) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === '*') {
      starPi = pi++;
      starSi = si;
    } else if (starPi >= 0) {
      pi = starPi + 1;
      si = ++starSi;
    } else {
      return false;
    }
  }
  while (pi < pattern.length && pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** 1: a positive pattern matched and no negated one; -1: a negated pattern matched; 0: none matched. */
export function matchPatternList(s: string, list: string): 1 | 0 | -1 {
  let positive = false;
  for (const sub of list.split(',')) {
    const negated = sub.startsWith('!');
    if (matchPattern(s, negated ? sub.slice(1) : sub)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

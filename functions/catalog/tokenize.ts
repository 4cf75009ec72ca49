// Words for the search index and for queries, the same way for both: letters and numbers of every
// script, lower-cased. Scripts written without spaces (Han, Kana, Hangul syllables in runs) have
// no words to split on, so their runs become overlapping pairs of characters: a title in Chinese
// is found by any two or more of its characters in order, and by one through prefix matching.
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** Longest word kept: longer runs (hashes, base64) would only bloat the index. */
const MAX_WORD = 64;

export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const [run] of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    if (!UNSPACED.test(run)) {
      out.push(run.length > MAX_WORD ? run.slice(0, MAX_WORD) : run);
      continue;
    }
    // Pairs over code points (not UTF-16 units), so no character is cut in half.
    const chars = [...run];
    if (chars.length === 1) out.push(run);
    for (let i = 0; i + 1 < chars.length && i < MAX_WORD; i++) out.push(chars[i]! + chars[i + 1]!);
  }
  return out;
}

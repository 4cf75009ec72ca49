// The files one import request carries (catalog files and the files their placeholders read), as a
// content reader: a placeholder resolves only to a file sent with the request, by its name, and
// never outside the import root, the deepest directory all catalog files of the request share.
import { posix } from 'node:path';
import type { ContentReader } from './placeholders.ts';

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** The deepest directory every (non-URL) file name lies in, posix; '' when they share none. */
export function commonRoot(names: string[]): string {
  const dirs = names.filter((n) => !isUrl(n)).map((n) => posix.dirname(posix.normalize(n)).split('/'));
  if (!dirs.length) return '';
  const first = dirs[0]!;
  let n = first.length;
  for (const d of dirs) {
    let i = 0;
    while (i < n && i < d.length && d[i] === first[i]) i++;
    n = i;
  }
  const root = first.slice(0, n).join('/');
  return root === '.' ? '' : root || (first[0] === '' ? '/' : '');
}

/** A reader over the files sent: paths by their normalised name, URLs as sent. */
export function sentFilesReader(files: ReadonlyArray<{ name: string; content: string }>): ContentReader {
  const byName = new Map(files.map((f) => [isUrl(f.name) ? f.name : posix.normalize(f.name), f.content]));
  return {
    async read(target) {
      const content = byName.get(target);
      if (content === undefined) throw new Error(`${target} was not sent with the import (send it among the assets)`);
      return content;
    },
    allowUrl: (url) => byName.has(url),
  };
}

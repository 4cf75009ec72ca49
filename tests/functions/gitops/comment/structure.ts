// A small reader of the comment's structure, to prove input cannot break it: fences close, only
// the renderer's own tags appear outside code, table rows keep their six cells.
import { COMMENT_MARKER } from '../../../../functions/gitops/comment/render.ts';

const ALLOWED_TAGS = new Set(['details', 'summary', 'b', 'code']);

export interface Structure {
  problems: string[];
  /** Contents of the fenced blocks, in order. */
  blocks: string[];
  /** Lines outside fenced blocks. */
  prose: string[];
}

export function structure(md: string): Structure {
  const problems: string[] = [];
  const blocks: string[] = [];
  const prose: string[] = [];
  let fence = 0;
  let body: string[] = [];
  let open = 0;
  // CommonMark: any of \r\n, \r, \n ends a line.
  for (const line of md.split(/\r\n|\r|\n/)) {
    if (fence) {
      const close = /^ {0,3}(`+)[ \t]*$/.exec(line);
      if (close && close[1].length >= fence) { blocks.push(body.join('\n')); fence = 0; body = []; } else body.push(line);
      continue;
    }
    const start = /^ {0,3}(`{3,})([^`]*)$/.exec(line);
    if (start) { fence = start[1].length; continue; }
    prose.push(line);
    if (line.includes('`')) problems.push(`backtick outside a fence: ${line.slice(0, 80)}`);
    for (const m of line.matchAll(/(?<!\]\()<(\/?)([a-zA-Z][\w-]*)[^>]*>/g)) {
      if (!ALLOWED_TAGS.has(m[2].toLowerCase())) problems.push(`tag <${m[1]}${m[2]}> outside code`);
      if (m[2] === 'details') open += m[1] ? -1 : 1;
    }
    if (line.includes('<!--') && line !== COMMENT_MARKER) problems.push(`comment outside code: ${line.slice(0, 80)}`);
    if (line.startsWith('|') && (line.match(/\|/g) ?? []).length !== 7) problems.push(`table row with other than 6 cells: ${line.slice(0, 80)}`);
  }
  if (fence) problems.push('unclosed fence');
  if (open !== 0) problems.push(`unbalanced <details>: ${open}`);
  return { problems, blocks, prose };
}

/** How often `needle` occurs in `hay`. */
export function occurrences(hay: string, needle: string): number {
  return hay.split(needle).length - 1;
}

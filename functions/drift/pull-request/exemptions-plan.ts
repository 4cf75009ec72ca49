// The pull request that proposes removing expired policy exemptions from the archetypes: one per
// stack (branch `nexus/exemptions/<stack>`), synced like the drift pull request (sync.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_ARCHETYPE_BYTES, removeExemptionEdit, type ExpiredExemption } from '../exemptions.ts';
import { PLAN_MARKER_PREFIX, type DriftPullRequestPlan } from './plan.ts';

export type ExemptionPlan = Pick<DriftPullRequestPlan, 'stack' | 'branch' | 'title' | 'body' | 'files' | 'hash'>;

export function exemptionsBranch(stack: string): string {
  return `nexus/exemptions/${stack}`;
}

/**
 * `repoPath`: the repository's sub-folder the snapshot `repoDir` holds ('' for all); the
 * exemptions' `source.file` names files as the repository does. Undefined when nothing is expired
 * or no file can be edited (a library exemption is not Nexus's to remove).
 */
export function planExemptionRemoval(stack: string, expired: ExpiredExemption[], repoDir: string, repoPath: string): ExemptionPlan | undefined {
  const base = repoPath.replace(/^\/+|\/+$/g, '');
  const texts = new Map<string, string>();
  const removed: ExpiredExemption[] = [];
  for (const e of expired) {
    const rel = base && e.source.file.startsWith(`${base}/`) ? e.source.file.slice(base.length + 1) : e.source.file;
    if (rel.startsWith('/') || rel.split('/').includes('..')) continue;
    let text = texts.get(e.source.file);
    if (text === undefined) {
      try {
        const raw = readFileSync(join(repoDir, rel));
        if (raw.length > MAX_ARCHETYPE_BYTES) continue;
        text = raw.toString('utf8');
      } catch {
        continue;
      }
    }
    const next = removeExemptionEdit(text, e.name, { archetype: e.source.archetype });
    if (next === text) continue;
    texts.set(e.source.file, next);
    removed.push(e);
  }
  if (removed.length === 0) return undefined;
  const files = [...texts].map(([path, content]) => ({ path, content })).sort((a, b) => a.path.localeCompare(b.path));
  const title = `Expired policy exemptions on ${stack}: remove ${removed.length}`;
  const text = [
    `Nexus found ${removed.length} policy exemption${removed.length === 1 ? '' : 's'} past ${removed.length === 1 ? 'its' : 'their'} expiry on stack \`${stack}\`. An expired exemption no longer exempts anything; this removes ${removed.length === 1 ? 'it' : 'them'} from the archetypes.`,
    '',
    '| exemption | expired | file | archetype |',
    '|---|---|---|---|',
    ...removed.map((e) => `| \`${e.name}\` | ${e.expiresOn} | \`${e.source.file}\` | ${e.source.archetype ?? ''} |`),
  ].join('\n');
  const hash = createHash('sha256').update(JSON.stringify({ title, body: text, files })).digest('hex');
  return { stack, branch: exemptionsBranch(stack), title, body: `${text}\n\n${PLAN_MARKER_PREFIX}${hash} -->`, files, hash };
}

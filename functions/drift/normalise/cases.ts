// Labelled drift cases (`nexus drift judge DIR`): one JSON file per case, read and checked here.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { judge } from './judge.ts';
import type { RuleSet } from './rules.ts';
import type { Difference } from './types.ts';

export const MAX_CASE_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;
const MAX_CASES = 10_000;

const caseSchema = z.object({
  resourceType: z.string().min(1).max(300),
  desired: z.unknown(),
  live: z.unknown(),
  baseline: z.unknown().optional(),
  expected: z.enum(['drift', 'noise']),
  why: z.string().min(1).max(10_000),
  // Optional, as the judge's input has them: policy-owned paths and child resources' paths.
  ownedPaths: z.array(z.object({ path: z.string().min(1).max(500), owner: z.string().min(1).max(500) })).max(200).optional(),
  childPaths: z.array(z.string().min(1).max(500)).max(200).optional(),
});
export type DriftCase = z.infer<typeof caseSchema>;

export class CaseError extends Error {
  constructor(readonly file: string, readonly field: string, message: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${message}`);
    this.name = 'CaseError';
  }
}

function tooDeep(v: unknown, depth: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (depth >= MAX_DEPTH) return true;
  for (const c of Object.values(v)) if (tooDeep(c, depth + 1)) return true;
  return false;
}

export function parseCase(text: string, file: string): DriftCase {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CaseError(file, '', `not valid JSON (${(err as Error).message})`);
  }
  if (tooDeep(raw, 0)) throw new CaseError(file, '', `nested deeper than ${MAX_DEPTH} levels`);
  // `desired` and `live` must be present (null when the resource is absent on that side).
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const k of ['desired', 'live'] as const) if (!Object.hasOwn(raw, k)) throw new CaseError(file, k, 'required (null when the resource does not exist on that side)');
  }
  const r = caseSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new CaseError(file, issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replaceAll('.[', '['), issue.message);
  }
  return r.data;
}

/** Every `*.json` in dir (not recursive), sorted by name; other names are not cases and are skipped. */
export function readCases(dir: string): { file: string; case: DriftCase }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new CaseError(dir, '', `cannot read the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const files = names.filter((n) => n.endsWith('.json')).sort();
  if (files.length > MAX_CASES) throw new CaseError(dir, '', `${files.length} cases; at most ${MAX_CASES}`);
  return files.map((name) => {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (!st.isFile()) throw new CaseError(name, '', 'not a regular file');
    if (st.size > MAX_CASE_BYTES) throw new CaseError(name, '', `${st.size} bytes; a case is at most ${MAX_CASE_BYTES}`);
    return { file: name, case: parseCase(readFileSync(path, 'utf8'), name) };
  });
}

export interface CaseResult {
  file: string;
  expected: 'drift' | 'noise';
  verdict: 'drift' | 'noise';
  differences: Difference[];
  suppressedBy: string[];
}

export interface JudgeSummary {
  cases: number;
  falsePositives: number;
  falseNegatives: number;
  results: CaseResult[];
}

export function judgeCases(cases: { file: string; case: DriftCase }[], rules: RuleSet): JudgeSummary {
  const results = cases.map(({ file, case: c }) => {
    const j = judge({ resourceType: c.resourceType, desired: c.desired, live: c.live, baseline: c.baseline, ownedPaths: c.ownedPaths, childPaths: c.childPaths }, rules);
    return { file, expected: c.expected, verdict: j.verdict, differences: j.differences, suppressedBy: j.suppressedBy };
  });
  return {
    cases: results.length,
    falsePositives: results.filter((r) => r.expected === 'noise' && r.verdict === 'drift').length,
    falseNegatives: results.filter((r) => r.expected === 'drift' && r.verdict === 'noise').length,
    results,
  };
}

// The first apply of the default tenant by `npm run up`: every stack, one at a time in the desired
// state's order (a child group needs its parent), through the same reconcile path and gates as any
// other apply. Its progress is written to a small JSON file after each stack, so `nexus doctor`
// (another process) can say how far it is, and a `ready:` line is logged when it is over.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ReconcileResult } from '../reconcile/loop.ts';

/** What the first apply needs of the reconciler. */
export interface FirstApplyPort {
  compile(): Promise<DesiredState>;
  /** Reconciles one stack of `state` (manual trigger, every gate). */
  reconcile(stack: string, state: DesiredState): Promise<ReconcileResult>;
}

export interface FirstApplyFiles {
  /** Written once the default tenant has been applied; while missing, each start applies it. */
  marker: string;
  /** The progress of the apply under way (or of the last one). */
  progress: string;
}

/** Where the first apply keeps its marker and progress: NEXUS_HOME (`.nexus/`). */
export function firstApplyFiles(home: string): FirstApplyFiles {
  return { marker: join(home, 'bootstrapped'), progress: join(home, 'first-apply.json') };
}

export interface BootstrapOutcome {
  ran: boolean;
  ok: boolean;
  /** One line per stack: `name: decision (reasons)`. */
  stacks: string[];
}

const StackProgress = z.object({ stack: z.string(), line: z.string(), ok: z.boolean(), resources: z.number().int().nonnegative() });
const Progress = z.object({
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  stacks: z.number().int().nonnegative(),
  resources: z.number().int().nonnegative(),
  /** The stack being applied now. */
  current: z.string().optional(),
  done: z.array(StackProgress),
  ok: z.boolean().optional(),
});
export type FirstApplyProgress = z.infer<typeof Progress>;

const SETTLED: ReadonlySet<string> = new Set(['applied', 'no-change']);

function describe(r: ReconcileResult): { line: string; ok: boolean } {
  if (r.status === 'skipped') return { line: `${r.stack}: skipped (${r.reason}${r.holder ? ` by ${r.holder}` : ''})`, ok: false };
  const run = r.run;
  const why = [...run.gates.filter((g) => !g.pass).map((g) => `${g.reason}: ${g.details.message}`), ...(run.error ? [run.error] : [])];
  const decision = run.decision ?? run.status;
  return { line: `${run.stack}: ${decision}${why.length ? ` (${why.join('; ')})` : ''}`, ok: SETTLED.has(decision) };
}

/** Replaced whole (write, then rename), so a reader never sees half a file. */
function writeProgress(file: string, p: FirstApplyProgress): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(p, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The progress file, or undefined when there is none; a file that does not parse says so. */
export function readProgress(file: string): FirstApplyProgress | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  const parsed = Progress.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** One line about the first apply, for `npm run up`'s log and `nexus doctor`. */
export function progressLine(p: FirstApplyProgress, now: Date): string {
  const applied = p.done.filter((d) => d.ok);
  const resources = applied.reduce((n, d) => n + d.resources, 0);
  if (!p.finishedAt) {
    const elapsed = duration(now.getTime() - Date.parse(p.startedAt));
    return `in progress: ${p.done.length} of ${p.stacks} stacks done (${resources} of ${p.resources} resources)${p.current ? `, applying ${p.current}` : ''}, ${elapsed} so far`;
  }
  const took = duration(Date.parse(p.finishedAt) - Date.parse(p.startedAt));
  if (p.ok) return `the default tenant is applied: ${p.stacks} stacks, ${p.resources} resources, in ${took} (finished ${p.finishedAt})`;
  const failed = p.done.filter((d) => !d.ok).map((d) => d.line);
  return `incomplete after ${took}: ${applied.length} of ${p.stacks} stacks applied; ${failed.join('; ')}`;
}

/**
 * What `nexus doctor` says about the first apply: how far it is while it runs, how it ended, or
 * nothing when this is not a local system (neither file exists).
 */
export function firstApplyStatus(files: FirstApplyFiles, now: Date): { ok: boolean; detail: string; fix?: string } | undefined {
  let p: FirstApplyProgress | undefined;
  try {
    p = readProgress(files.progress);
  } catch (err) {
    return { ok: false, detail: (err as Error).message, fix: 'delete the file; the next `npm run up` writes it again' };
  }
  if (!p) return existsSync(files.marker) ? { ok: true, detail: `the default tenant was applied at ${readFileSync(files.marker, 'utf8').trim()}` } : undefined;
  if (!p.finishedAt || p.ok) return { ok: true, detail: progressLine(p, now) };
  return { ok: false, detail: progressLine(p, now), fix: 'see `npx nexus runs` for each stack; the next `npm run up` applies the rest' };
}

/**
 * Applies the default tenant unless the marker says it was. A stack a gate stops is reported with
 * its reason and retried on the next start; the marker is written only when every stack settled.
 */
export async function firstApply(port: FirstApplyPort, files: FirstApplyFiles, log: (msg: string) => void, now: () => Date = () => new Date()): Promise<BootstrapOutcome> {
  if (existsSync(files.marker)) {
    const status = firstApplyStatus(files, now());
    log(`ready: ${status?.detail ?? 'the default tenant was applied before'}`);
    return { ran: false, ok: true, stacks: [] };
  }
  log('first run: applying the default tenant to the ARM sandbox through the reconcile gates (a few minutes; `npx nexus doctor` shows the progress)');
  const state = await port.compile();
  const progress: FirstApplyProgress = {
    startedAt: now().toISOString(),
    stacks: state.stacks.length,
    resources: state.stacks.reduce((n, s) => n + s.resourceIds.length, 0),
    done: [],
  };
  for (const stack of state.stacks) {
    writeProgress(files.progress, { ...progress, current: stack.name });
    let d: { line: string; ok: boolean };
    try {
      d = describe(await port.reconcile(stack.name, state));
    } catch (err) {
      // Said in the progress file too, so doctor does not show a dead apply as still under way.
      d = { line: `${stack.name}: failed (${(err as Error).message})`, ok: false };
      progress.done.push({ stack: stack.name, line: d.line, ok: false, resources: stack.resourceIds.length });
      writeProgress(files.progress, { ...progress, finishedAt: now().toISOString(), ok: false });
      throw err;
    }
    log(`  ${d.line}`);
    progress.done.push({ stack: stack.name, line: d.line, ok: d.ok, resources: stack.resourceIds.length });
  }
  const ok = progress.done.every((d) => d.ok);
  const finished: FirstApplyProgress = { ...progress, finishedAt: now().toISOString(), ok };
  writeProgress(files.progress, finished);
  if (ok) {
    writeFileSync(files.marker, `${finished.finishedAt}\n`);
    log(`ready: ${progressLine(finished, now())}`);
  } else {
    log('bootstrap incomplete: see the stacks above (`npx nexus runs` has the details); the next start tries again');
  }
  return { ran: true, ok, stacks: progress.done.map((d) => d.line) };
}

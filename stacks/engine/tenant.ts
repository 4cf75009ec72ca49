// Every stack of a DesiredState, one after the other in the compiler's order (a stack's groups
// hang under groups of the stacks before it): preview for `nexus preview` and the benchmark,
// up for applying a whole tenant (`npm run up` on its first run).
import type { DesiredState } from '../compile/model.ts';
import type { ChangeSet } from './changeset.ts';
import { openStack, type OpenStackOptions, type OperationTimings, type PreviewOptions } from './index.ts';

export interface StackResult {
  name: string;
  changeSet: ChangeSet;
  /** Timings of the operation, plus opening the stack (openMs, of which setupMs in the CLI). */
  timings: OperationTimings & { openMs: number };
}

export interface TenantOptions extends Omit<OpenStackOptions, 'state' | 'stack'> {
  /** Only these stacks (by name); all when absent. */
  stacks?: string[];
  /** Called after each stack with its result. */
  onStack?: (result: StackResult) => void;
}

function selectStacks(state: DesiredState, names?: string[]): string[] {
  const all = state.stacks.map((s) => s.name);
  if (!names?.length) return all;
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`no stack named ${unknown.join(', ')} (stacks: ${all.join(', ')})`);
  return all.filter((n) => names.includes(n));
}

async function eachStack(
  state: DesiredState,
  opts: TenantOptions,
  op: (s: Awaited<ReturnType<typeof openStack>>) => Promise<ChangeSet>,
): Promise<StackResult[]> {
  const results: StackResult[] = [];
  for (const name of selectStacks(state, opts.stacks)) {
    const t0 = performance.now();
    const { stacks: _only, onStack: _cb, ...open } = opts;
    const s = await openStack({ ...open, state, stack: name });
    const openMs = performance.now() - t0;
    try {
      const changeSet = await op(s);
      const result = { name, changeSet, timings: { ...s.lastTimings!, openMs } };
      results.push(result);
      opts.onStack?.(result);
    } finally {
      s.close();
    }
  }
  return results;
}

/** Preview of each stack; `refresh: true` compares with the live tenant instead of the stored state. */
export function previewTenant(state: DesiredState, opts: TenantOptions & PreviewOptions): Promise<StackResult[]> {
  const { refresh, ...rest } = opts;
  return eachStack(state, rest, (s) => s.preview({ refresh }));
}

export function upTenant(state: DesiredState, opts: TenantOptions & { refresh?: boolean }): Promise<StackResult[]> {
  const { refresh, ...rest } = opts;
  return eachStack(state, rest, (s) => s.up({ refresh }));
}

// The personal dashboard's recent reconcile runs, read from the reconciler's run history
// (functions/reconcile/store/runs.ts): runs of the stacks the user's teams own, and runs the user
// triggered, newest first.
import type { CatalogPrincipal, RecentRunsPort } from '../catalog/service.ts';
import type { RunRow, RunStore } from '../reconcile/store/runs.ts';

/** The part of the run store read here. */
export type RunReader = Pick<RunStore, 'list'>;

/** How many of the newest runs (all stacks) are looked through for runs the user triggered. */
export const TRIGGERED_SCAN = 500;

/** Whether the run was requested by this principal (runs record e-mail, else name, else id). */
export function triggeredBy(run: Pick<RunRow, 'requestedBy'>, p: CatalogPrincipal): boolean {
  const by = run.requestedBy?.toLowerCase();
  return !!by && [p.email, p.name, p.id].some((v) => v?.toLowerCase() === by);
}

/**
 * A RecentRunsPort over the run store, opened on first use (so a server whose storage has no run
 * history yet still starts). One read per owned stack (its own partition, newest first) and one
 * read of the newest runs of all stacks for the ones the user triggered.
 */
export function recentRunsFrom(open: () => Promise<RunReader>): RecentRunsPort {
  let reader: Promise<RunReader> | undefined;
  return {
    async recent({ principal, stacks, limit }) {
      reader ??= open();
      reader.catch(() => { reader = undefined; });
      const store = await reader;
      const [byStack, newest] = await Promise.all([
        Promise.all(stacks.map((stack) => store.list({ stack, limit }))),
        store.list({ limit: TRIGGERED_SCAN }),
      ]);
      const found = new Map<string, RunRow>();
      for (const page of byStack) for (const run of page.runs) found.set(run.id, run);
      for (const run of newest.runs) if (triggeredBy(run, principal)) found.set(run.id, run);
      // Run ids sort newest first (functions/reconcile/store/runs.ts newRunId).
      return [...found.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit);
    },
  };
}

// Event-ordered writes for webhook ingestion. Deliveries arrive late, twice and out of order, so an
// event may only change an entity when it is newer than the state the entity already holds. The
// decision is taken on a consistent read, and the write is pinned to that read's ETag (If-Match, or
// If-None-Match for a new entity): if another writer got there first, the entity is read again and
// the decision taken again (after a short random pause, so colliding writers do not collide again),
// so an older event can never land over a newer one.
import { ConcurrencyError, type CatalogService } from '../service.ts';
import type { Entity, SourceInfo } from '../kinds.ts';
import { retryOnConflict } from '../../platform/conflict-retry.ts';

/**
 * What to do with the entity as it is now: write this document (merged over it), leave it and say
 * why (the event is stale), or leave it because it already holds what the event says.
 */
export type Decision = { write: unknown; note?: string } | { skip: string } | { unchanged: true };

export type OrderedWriteResult = { written: true; entity: Entity; note?: string } | { written: false; reason?: string };

const MAX_ROUNDS = 8;

export async function writeIfNewer(
  catalog: CatalogService,
  key: string,
  source: SourceInfo,
  decide: (cur: Entity | undefined) => Decision,
  opts: { ownedFields?: string[] } = {},
): Promise<OrderedWriteResult> {
  return retryOnConflict(async (): Promise<OrderedWriteResult> => {
    const cur = await catalog.get(key, { consistent: true });
    const decision = decide(cur);
    if ('skip' in decision) return { written: false, reason: decision.skip };
    if ('unchanged' in decision) return { written: false };
    if (cur && !cur.metadata.etag) throw new Error(`${key}: the catalog returned no ETag to pin the write to`);
    const pin = cur ? { ifMatch: cur.metadata.etag } : { ifNoneMatch: '*' as const };
    const entity = await catalog.upsert(decision.write, source, { mode: 'merge', ownedFields: opts.ownedFields, ...pin });
    return { written: true, entity, ...(decision.note ? { note: decision.note } : {}) };
  }, { maxAttempts: MAX_ROUNDS, isConflict: (err) => err instanceof ConcurrencyError });
}

/**
 * Compares two positions in an event stream, each a list of numbers compared left to right (time,
 * then rank, then id). A missing element cannot be ordered: `undefined` answers "unknown".
 */
export function compareOrder(a: Array<number | undefined>, b: Array<number | undefined>): number | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === y ? 0 : undefined;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

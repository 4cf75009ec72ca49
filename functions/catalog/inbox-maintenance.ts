// The inbox's housekeeping, run now and then (not on every message): re-send the messages of
// deliveries whose sending was cut short, and delete what is past its retention. Each reads only
// a key range of a source's partition (u:..., or x:<old days>...), never the deliveries themselves.
import type { Table } from '../platform/tables.ts';
import type { Queue } from '../platform/queues.ts';
import type { BlobStore } from '../platform/blobs.ts';
import { ConcurrencyError } from '../platform/errors.ts';
import {
  FINAL, valueOf, UNSENT_RANGE, dayOf, deliveryKey, expiredRange, expiryKey, unsentKey,
  type DeliveryMessage, type DeliveryRow, type ExpiryRow, type InboxRow, type UnsentRow,
} from './inbox-rows.ts';

export interface MaintenanceDeps {
  table: Table<InboxRow>;
  queue: Queue;
  blobs: () => Promise<BlobStore>;
  now: () => Date;
  /** An unsent marker older than this is re-sent (a younger one may be an enqueue still in flight). */
  resendAfterMs: number;
  retentionDays: number;
}

export interface MaintenanceResult {
  resent: number;
  expired: number;
  /** Old rows not finished yet: their marker moved to today, so they are looked at again later. */
  deferred: number;
}

/** Both chores for every given source partition. */
export async function maintain(deps: MaintenanceDeps, sources: Iterable<string>): Promise<MaintenanceResult> {
  const result: MaintenanceResult = { resent: 0, expired: 0, deferred: 0 };
  for (const source of new Set(sources)) {
    result.resent += await resendUnsent(deps, source);
    const { expired, deferred } = await expireOld(deps, source);
    result.expired += expired;
    result.deferred += deferred;
  }
  return result;
}

/**
 * A delivery row is written with its u: marker before its message is sent; the marker goes once
 * the send is confirmed. A marker still there means the process stopped in between: send again.
 * Sending twice is harmless (the second message finds the delivery claimed or finished).
 */
export async function resendUnsent(deps: MaintenanceDeps, source: string): Promise<number> {
  const before = deps.now().getTime() - deps.resendAfterMs;
  let resent = 0;
  for await (const row of deps.table.query({ partitionKey: source, filter: UNSENT_RANGE })) {
    const marker = row as unknown as UnsentRow & { rowKey: string };
    if (Date.parse(marker.at) > before) continue;
    const deliveryId = marker.rowKey.slice(2);
    const message: DeliveryMessage = { source, deliveryId };
    await deps.queue.send(message);
    await deps.table.delete(source, unsentKey(deliveryId));
    resent++;
  }
  return resent;
}

/**
 * Deletes finished deliveries received more than `retentionDays` ago, with their payload blob and
 * markers. The delivery id stays a known duplicate for that long (senders redeliver within days).
 */
export async function expireOld(deps: MaintenanceDeps, source: string): Promise<{ expired: number; deferred: number }> {
  const now = deps.now();
  const cutoff = dayOf(new Date(now.getTime() - deps.retentionDays * 86_400_000));
  const today = dayOf(now);
  let expired = 0;
  let deferred = 0;
  // Collected first: deleting rows of the range while paging through it could skip some.
  const markers: Array<{ rowKey: string; deliveryId: string }> = [];
  for await (const row of deps.table.query({ partitionKey: source, filter: expiredRange(cutoff) })) {
    markers.push({ rowKey: row.rowKey, deliveryId: (row as unknown as ExpiryRow).deliveryId });
  }
  for (const m of markers) {
    const row = (await deps.table.get(source, deliveryKey(m.deliveryId))) as (DeliveryRow & { etag: string }) | undefined;
    if (!row || row.kind !== 'delivery') {
      await deps.table.delete(source, m.rowKey);
      continue;
    }
    if (!FINAL.has(row.state)) {
      // Still in the queue (or failing): keep it, and its marker moves so it is checked again later.
      await deps.table.batch(source, [
        { op: 'delete', rowKey: m.rowKey },
        { op: 'upsert', rowKey: expiryKey(today, m.deliveryId), value: { kind: 'expiry', deliveryId: m.deliveryId } },
        { op: 'replace', rowKey: deliveryKey(m.deliveryId), etag: row.etag, value: valueOf<DeliveryRow>({ ...row, expiryDay: today }) },
      ]).catch(ignoreConflict); // changed meanwhile: the next round decides again
      deferred++;
      continue;
    }
    if (row.payloadBlob) await (await deps.blobs()).delete(row.payloadBlob);
    await deps.table.delete(source, unsentKey(m.deliveryId));
    try {
      await deps.table.batch(source, [
        { op: 'delete', rowKey: m.rowKey },
        { op: 'delete', rowKey: deliveryKey(m.deliveryId) },
      ]);
      expired++;
    } catch (err) {
      ignoreConflict(err);
      // One of the two went meanwhile: delete what is left, one by one.
      await deps.table.delete(source, deliveryKey(m.deliveryId), row.etag);
      await deps.table.delete(source, m.rowKey);
      expired++;
    }
  }
  return { expired, deferred };
}

function ignoreConflict(err: unknown): void {
  if (!(err instanceof ConcurrencyError)) throw err;
}

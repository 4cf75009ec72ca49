// The rows of the webhook inbox's table and the messages of its queue. One partition per delivery
// source holds three kinds of row, told apart by a row-key prefix, so that the rows of one delivery
// are written together in one entity-group transaction (all or nothing):
//
//   d:<deliveryId>          the delivery: its state, what the handler reported, and the payload
//   u:<deliveryId>          "unsent": the row exists but its queue message is not known to be sent
//   x:<day>:<deliveryId>    "expires": the receipt day; the whole x:<day> range goes once it is old
//
// The u: and x: ranges are read as key ranges within a partition, never by scanning the deliveries.
import { z } from 'zod';
import { tableKey } from '../platform/tables.ts';

export type DeliveryState = 'pending' | 'processing' | 'failed' | 'done' | 'skipped' | 'poisoned';

/** States a delivery never leaves on its own: its message is acknowledged without running the handler. */
export const FINAL: ReadonlySet<DeliveryState> = new Set(['done', 'skipped', 'poisoned']);

export interface DeliveryRow {
  kind: 'delivery';
  state: DeliveryState;
  event: string;
  receivedAt: string;
  /** The day of the x: marker that expires this row. */
  expiryDay: string;
  /** Handler runs started (claims taken). */
  attempts: number;
  /** The claim of the worker running the handler ends then; after it, another may take over. */
  claimedUntil?: string;
  claimedBy?: string;
  processedAt?: string;
  /** The last handler error, or why the delivery was poisoned. */
  error?: string;
  /** What the handler reported for people to look at (JSON list), e.g. entities it would not overwrite. */
  findings?: string;
  /** Why the handler did not apply the delivery, or parts of it (JSON list). */
  skipped?: string;
  /** The payload as JSON text in chunks; a payload too large for a row goes to a blob. */
  chunks: number;
  payloadBlob?: string;
  [chunk: `p${number}`]: string;
}

export interface UnsentRow { kind: 'unsent'; at: string }
export interface ExpiryRow { kind: 'expiry'; deliveryId: string }
export type InboxRow = DeliveryRow | UnsentRow | ExpiryRow;

export const deliveryKey = (id: string) => `d:${id}`;
export const unsentKey = (id: string) => `u:${id}`;
export const expiryKey = (day: string, id: string) => `x:${day}:${id}`;

/** The OData filter for row keys in [from, to): the bounds escaped as tables.ts escapes keys. */
export const keyRange = (from: string, to: string) => `RowKey ge '${tableKey(from)}' and RowKey lt '${tableKey(to)}'`;
/** ';' sorts right after ':', so [u:, u;) is every unsent marker. */
export const UNSENT_RANGE = keyRange('u:', 'u;');
/** Every expiry marker of a day before `day` (YYYY-MM-DD). */
export const expiredRange = (day: string) => keyRange('x:', `x:${day}`);

export const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/** The queue message: which delivery to process. The payload stays in the row (messages hold 64 KiB). */
export const DeliveryMessage = z.object({
  source: z.string().min(1).max(100),
  deliveryId: z.string().min(1).max(1000),
}).strict();
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;

/** What goes to the poison queue: the delivery and why it was given up on. */
export interface PoisonMessage extends DeliveryMessage {
  reason: string;
  attempts: number;
  poisonedAt: string;
}

export interface Report {
  findings: string[];
  skipped: string[];
  /** False when the outcome says nothing was written (no upserted or orphaned entity). */
  applied: boolean;
}

/** What a handler's outcome (IngestOutcome) reports: findings, skip reasons, and whether it wrote anything. */
export function reportOf(outcome: unknown): Report {
  const o = (outcome ?? {}) as { findings?: unknown; skipped?: unknown; upserted?: unknown; orphaned?: unknown };
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const listed = Array.isArray(o.upserted) || Array.isArray(o.orphaned);
  return {
    findings: strings(o.findings),
    skipped: strings(o.skipped),
    applied: !listed || strings(o.upserted).length + strings(o.orphaned).length > 0,
  };
}

/** The stored value of a row, without the keys and etag that Table adds on reading. */
export function valueOf<T extends object>(row: T & { partitionKey?: string; rowKey?: string; etag?: string; timestamp?: string }): T {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...rest } = row;
  return rest as T;
}

/** Kept within one table property (64 KB): the first 100 entries, each cut at 500 characters. */
export const listColumn = (items: string[]) => (items.length ? JSON.stringify(items.slice(0, 100).map((f) => f.slice(0, 500))) : undefined);

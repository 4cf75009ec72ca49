// The durable inbox of webhook deliveries: a `deliveries` table (the record of each delivery, and
// the de-duplication by delivery id) and a `webhooks` queue (the work). A webhook route enqueues and
// answers 202 only once both are durable; drain() (the local server, on a timer) or the Azure
// Functions queue trigger (handleMessage) processes the messages. inbox-rows.ts has the row layout.
//
// Accepted means durable, none lost: the delivery row and an "unsent" marker are written together,
// then the message is sent, then the marker goes. A process that stops in between leaves the
// marker, and the message is sent again by the sender's redelivery (same id) or by maintain().
//
// None processed twice: a worker claims the row (ETag-conditional) before running the handler and
// marks it done (conditional on its claim) before deleting the message, and a message whose row is
// already finished is acknowledged without running the handler. The one window left is a worker
// that stops after its handler ran and before the done-mark: the message comes back after its
// visibility timeout and the handler runs again. Handlers are idempotent for that: catalog
// ingestion writes are upserts of the state the payload describes, so a second run writes the same
// rows. `attempts` on the row counts handler runs; one done-mark per delivery is what "processed
// once" means.
//
// Nothing kept forever: a message seen maxAttempts times without success goes to `webhooks-poison`
// with the reason (its row says `poisoned` and why), poison messages expire after the retention,
// and rows expire `retentionDays` after their receipt (the x:<day> key ranges, see maintain()).
import { randomUUID } from 'node:crypto';
import { Table, type Row } from '../platform/tables.ts';
import { Queue } from '../platform/queues.ts';
import { BlobStore } from '../platform/blobs.ts';
import { ConcurrencyError, EntityExistsError } from '../platform/errors.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import { chunkText, joinChunks } from '../platform/row-chunks.ts';
import { mapLimit } from '../platform/map-limit.ts';
import {
  DeliveryMessage, FINAL, dayOf, deliveryKey, expiryKey, listColumn, reportOf, unsentKey, valueOf,
  type DeliveryRow, type DeliveryState, type InboxRow, type PoisonMessage,
} from './inbox-rows.ts';
import { maintain, type MaintenanceResult } from './inbox-maintenance.ts';

export type { DeliveryState } from './inbox-rows.ts';
/** The state a caller sees (the same names as the row's). */
export type DeliveryStatus = DeliveryState;

export interface Delivery {
  source: string;
  deliveryId: string;
  event: string;
  payload: unknown;
  receivedAt?: string;
}

export type DeliveryHandler = (d: Delivery & { receivedAt: string; attempt: number }) => Promise<unknown>;

// Azure Tables count strings as UTF-16 (2 bytes a character) and hold at most 1 MiB a row.
const MAX_IN_ROW = 450_000;

export interface InboxConfig {
  storage?: StorageConfig;
  /** Default 'deliveries'. */
  table?: string;
  /** Default 'webhooks', or the table's name in lower case when a table is given (tests and benches get a queue of their own). */
  queue?: string;
  container?: string;
  /** Handler runs (or receipts of one message) before a delivery is poisoned. Default 5. */
  maxAttempts?: number;
  /** How long a received message stays hidden, and a worker's claim on its delivery lasts. Default 300. */
  visibilitySeconds?: number;
  /** Days a delivery row (and poison message) is kept after receipt; also the de-duplication window. Default 7. */
  retentionDays?: number;
  /** drain() runs maintain() at most this often. Default 60 s. */
  maintainEveryMs?: number;
  /** An unsent marker older than this is re-sent by maintain(). Default 30 s. */
  resendAfterMs?: number;
  /** Messages drain() processes at once. Default 8. */
  concurrency?: number;
  now?: () => Date;
}

export interface DrainResult {
  /** Processed without error, the skipped ones included. */
  done: number;
  /** Failed this time; the message comes back after a backoff. */
  failed: number;
  /** Given up on: in the poison queue with the reason. */
  poisoned: number;
  /** Messages of deliveries already finished (or gone), acknowledged without running the handler. */
  repeated: number;
}

/** What became of one message; `ack` says whether it may be deleted from the queue. */
export type Verdict =
  | { outcome: 'done' | 'skipped' | 'poisoned' | 'repeated' | 'gone'; ack: true }
  | { outcome: 'failed' | 'busy'; ack: false; retryInSeconds: number; error: string };

export class Inbox {
  private readonly holder = randomUUID();
  private readonly now: () => Date;
  private readonly maxAttempts: number;
  private readonly visibility: number;
  private readonly retentionDays: number;
  private lastMaintained = 0;
  private kicker?: () => void;
  private blobs?: BlobStore;

  private constructor(private readonly table: Table<InboxRow>, readonly queue: Queue, readonly poison: Queue, private readonly cfg: InboxConfig) {
    this.now = cfg.now ?? (() => new Date());
    this.maxAttempts = cfg.maxAttempts ?? 5;
    this.visibility = cfg.visibilitySeconds ?? 300;
    this.retentionDays = cfg.retentionDays ?? 7;
  }

  static async open(cfg: InboxConfig = {}): Promise<Inbox> {
    const queue = cfg.queue ?? (cfg.table ? cfg.table.toLowerCase() : 'webhooks');
    const [table, main, poison] = await Promise.all([
      Table.open<InboxRow>(cfg.table ?? 'deliveries', cfg.storage),
      Queue.open(queue, cfg.storage),
      Queue.open(`${queue}-poison`, cfg.storage),
    ]);
    return new Inbox(table, main, poison, cfg);
  }

  /**
   * Records the delivery and queues it, unless its id was seen before (`duplicate`). Resolves only
   * once the row and the message are both stored. A duplicate whose first arrival stopped before
   * its message was sent is sent now.
   */
  async enqueue(d: Delivery): Promise<{ duplicate: boolean }> {
    if (!d.source || !d.deliveryId) throw new Error('a delivery needs a source and a delivery id');
    const text = JSON.stringify(d.payload ?? null);
    const received = d.receivedAt ? new Date(d.receivedAt) : this.now();
    const day = dayOf(this.now());
    const row: DeliveryRow = {
      kind: 'delivery', state: 'pending', event: d.event, receivedAt: received.toISOString(), expiryDay: day, attempts: 0, chunks: 0,
    };
    if (text.length > MAX_IN_ROW) {
      const name = `${d.source}/${encodeURIComponent(d.deliveryId)}.json`;
      await (await this.blobStore()).putText(name, text, { contentType: 'application/json' });
      row.payloadBlob = name;
    } else {
      Object.assign(row, chunkText('p', text));
    }
    let duplicate = false;
    try {
      await this.table.batch(d.source, [
        { op: 'insert', rowKey: deliveryKey(d.deliveryId), value: row },
        { op: 'insert', rowKey: unsentKey(d.deliveryId), value: { kind: 'unsent', at: this.now().toISOString() } },
        { op: 'insert', rowKey: expiryKey(day, d.deliveryId), value: { kind: 'expiry', deliveryId: d.deliveryId } },
      ]);
    } catch (err) {
      if (!(err instanceof EntityExistsError)) throw err;
      duplicate = true;
      // Seen before; sent only if its first arrival did not get that far.
      if (!(await this.table.get(d.source, unsentKey(d.deliveryId)))) return { duplicate };
    }
    await this.send(d.source, d.deliveryId);
    this.kicker?.();
    return { duplicate };
  }

  /** Processes what is in the queue now, up to `limit` messages; maintain() too when it is due. */
  async drain(handlers: Record<string, DeliveryHandler>, opts: { limit?: number } = {}): Promise<DrainResult> {
    const result: DrainResult = { done: 0, failed: 0, poisoned: 0, repeated: 0 };
    if (this.now().getTime() - this.lastMaintained >= (this.cfg.maintainEveryMs ?? 60_000)) {
      this.lastMaintained = this.now().getTime();
      await this.maintain(Object.keys(handlers));
    }
    const limit = opts.limit ?? 500;
    let seen = 0;
    while (seen < limit) {
      const batch = await this.queue.receive(Math.min(32, limit - seen), this.visibility);
      if (!batch.length) break;
      seen += batch.length;
      await mapLimit(batch, this.cfg.concurrency ?? 8, async (m) => {
        const verdict = await this.handleMessage(m.body, m.dequeueCount, handlers);
        if (verdict.ack) await this.queue.delete(m);
        else await this.queue.hide(m, verdict.retryInSeconds);
        const key = verdict.outcome === 'skipped' ? 'done' : verdict.outcome === 'gone' ? 'repeated' : verdict.outcome === 'busy' ? undefined : verdict.outcome;
        if (key) result[key]++;
      });
    }
    return result;
  }

  /**
   * One message, as the Functions queue trigger or drain() received it. Never throws for what the
   * handler does; a storage failure throws (the message comes back after its visibility timeout).
   */
  async handleMessage(body: unknown, dequeueCount: number, handlers: Record<string, DeliveryHandler>): Promise<Verdict> {
    const parsed = DeliveryMessage.safeParse(typeof body === 'string' ? safeJson(body) : body);
    if (!parsed.success) {
      await this.poison.send({ reason: `not a delivery message: ${parsed.error.issues[0]?.message ?? 'unreadable'}`, body: String(JSON.stringify(body)).slice(0, 2000) }, { ttlSeconds: this.retentionDays * 86_400 });
      return { outcome: 'poisoned', ack: true };
    }
    const { source, deliveryId } = parsed.data;
    const row = await this.get(source, deliveryId);
    if (!row) return { outcome: 'gone', ack: true };
    if (FINAL.has(row.state)) return { outcome: 'repeated', ack: true };
    const now = this.now();
    if (row.state === 'processing' && row.claimedUntil && Date.parse(row.claimedUntil) > now.getTime()) {
      const left = (Date.parse(row.claimedUntil) - now.getTime()) / 1000;
      return { outcome: 'busy', ack: false, retryInSeconds: Math.max(1, left), error: `delivery ${source}/${deliveryId} is being processed by another worker` };
    }
    if (row.attempts >= this.maxAttempts || dequeueCount > this.maxAttempts) {
      const last = row.error ?? (row.state === 'processing' ? 'none recorded: the worker stopped while running the handler' : 'none recorded');
      return this.giveUp(row, `received ${Math.max(dequeueCount, row.attempts)} times without finishing; last error: ${last}`);
    }
    let claimed: Row<DeliveryRow>;
    try {
      const until = new Date(now.getTime() + this.visibility * 1000).toISOString();
      claimed = await this.replace(row, { ...valueOf<DeliveryRow>(row), state: 'processing', attempts: row.attempts + 1, claimedUntil: until, claimedBy: this.holder });
    } catch (err) {
      if (err instanceof ConcurrencyError) return { outcome: 'busy', ack: false, retryInSeconds: 1, error: `delivery ${source}/${deliveryId} was taken by another worker` };
      throw err;
    }
    const handler = Object.hasOwn(handlers, source) ? handlers[source] : undefined;
    let error: string | undefined;
    let retryAfter: number | undefined;
    let report = reportOf(undefined);
    try {
      if (!handler) throw new Error(`no handler for deliveries from '${source}'`);
      report = reportOf(await handler({
        source, deliveryId, event: claimed.event, payload: await this.payloadOf(claimed), receivedAt: claimed.receivedAt, attempt: claimed.attempts,
      }));
    } catch (err) {
      error = (err instanceof Error ? err.message : String(err)).slice(0, 4000);
      // A rate-limited host says when to come back (GitHub's and Azure DevOps's Retry-After).
      const after = (err as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (typeof after === 'number' && after > 0) retryAfter = after;
    }
    const base = { ...valueOf<DeliveryRow>(claimed), claimedUntil: undefined, claimedBy: undefined, processedAt: this.now().toISOString() };
    if (error) {
      if (claimed.attempts >= this.maxAttempts) return this.giveUp(claimed, `failed ${claimed.attempts} times; last error: ${error}`);
      try {
        await this.replace(claimed, { ...base, state: 'failed', error });
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
      // Back off 2^attempts seconds (2, 4, 8, ...) before the message is handed out again.
      return { outcome: 'failed', ack: false, retryInSeconds: Math.min(this.visibility, Math.max(2 ** claimed.attempts, retryAfter ?? 0)), error };
    }
    const state: DeliveryState = !report.applied && report.skipped.length ? 'skipped' : 'done';
    try {
      await this.replace(claimed, { ...base, state, error: undefined, findings: listColumn(report.findings), skipped: listColumn(report.skipped) });
    } catch (err) {
      // Our claim ran out and another worker took over: its outcome stands, and its message.
      if (err instanceof ConcurrencyError) return { outcome: 'busy', ack: false, retryInSeconds: 1, error: `delivery ${source}/${deliveryId}: the claim ran out before the handler finished` };
      throw err;
    }
    return { outcome: state, ack: true };
  }

  /** Puts a poisoned or failed delivery back in the queue; false when there is no such delivery. */
  async retry(source: string, deliveryId: string): Promise<boolean> {
    const row = await this.get(source, deliveryId);
    if (!row) return false;
    await this.table.batch(source, [
      { op: 'replace', rowKey: deliveryKey(deliveryId), etag: row.etag, value: { ...valueOf<DeliveryRow>(row), state: 'pending', attempts: 0, claimedUntil: undefined, claimedBy: undefined } },
      { op: 'upsert', rowKey: unsentKey(deliveryId), value: { kind: 'unsent', at: this.now().toISOString() } },
    ]);
    await this.send(source, deliveryId);
    return true;
  }

  async status(source: string, deliveryId: string): Promise<{ status: DeliveryStatus; attempts: number; error?: string; findings?: string[]; skipped?: string[]; event: string } | undefined> {
    const row = await this.get(source, deliveryId);
    if (!row) return undefined;
    const findings = row.findings ? (JSON.parse(row.findings) as string[]) : undefined;
    const skipped = row.skipped ? (JSON.parse(row.skipped) as string[]) : undefined;
    return { status: row.state, attempts: row.attempts, error: row.error, ...(findings ? { findings } : {}), ...(skipped ? { skipped } : {}), event: row.event };
  }

  /** Re-sends messages whose sending was cut short and deletes what is past retention, for these sources. */
  maintain(sources: Iterable<string>): Promise<MaintenanceResult> {
    return maintain({
      table: this.table, queue: this.queue, blobs: () => this.blobStore(), now: this.now,
      resendAfterMs: this.cfg.resendAfterMs ?? 30_000, retentionDays: this.retentionDays,
    }, sources);
  }

  /** Drains every `intervalMs` and soon after each enqueue in this process; stop() waits for the current round. */
  pump(handlers: Record<string, DeliveryHandler>, opts: { intervalMs?: number; onError?: (err: unknown) => void } = {}): { stop(): Promise<void>; kick(): void } {
    let running: Promise<unknown> = Promise.resolve();
    let stopped = false;
    let again = false;
    let busy = false;
    const round = () => {
      if (stopped) return;
      if (busy) { again = true; return; }
      busy = true;
      running = this.drain(handlers).catch((err) => opts.onError?.(err)).finally(() => {
        busy = false;
        if (again && !stopped) { again = false; round(); }
      });
    };
    const timer = setInterval(round, opts.intervalMs ?? 5000);
    timer.unref();
    this.kicker = () => setImmediate(round);
    round();
    return {
      kick: () => round(),
      stop: async () => {
        stopped = true;
        clearInterval(timer);
        this.kicker = undefined;
        await running;
      },
    };
  }

  /** Sends the delivery's message, then drops its unsent marker (the order is what makes it durable). */
  private async send(source: string, deliveryId: string): Promise<void> {
    const message: DeliveryMessage = { source, deliveryId };
    await this.queue.send(message);
    await this.table.delete(source, unsentKey(deliveryId));
  }

  /** Poison: the reason goes to the poison queue first, then the row; then the message may go. */
  private async giveUp(row: Row<DeliveryRow>, reason: string): Promise<Verdict> {
    const source = row.partitionKey;
    const deliveryId = row.rowKey.slice(2);
    const message: PoisonMessage = { source, deliveryId, reason: reason.slice(0, 4000), attempts: row.attempts, poisonedAt: this.now().toISOString() };
    await this.poison.send(message, { ttlSeconds: this.retentionDays * 86_400 });
    try {
      await this.replace(row, { ...valueOf<DeliveryRow>(row), state: 'poisoned', error: message.reason, claimedUntil: undefined, claimedBy: undefined, processedAt: message.poisonedAt });
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      return { outcome: 'busy', ack: false, retryInSeconds: 1, error: `delivery ${source}/${deliveryId} changed while it was being poisoned` };
    }
    return { outcome: 'poisoned', ack: true };
  }

  private async get(source: string, deliveryId: string): Promise<Row<DeliveryRow> | undefined> {
    const row = await this.table.get(source, deliveryKey(deliveryId));
    return row && row.kind === 'delivery' ? (row as Row<DeliveryRow>) : undefined;
  }

  private replace(row: Row<DeliveryRow>, value: DeliveryRow): Promise<Row<DeliveryRow>> {
    return this.table.replace(row, value) as Promise<Row<DeliveryRow>>;
  }

  private async payloadOf(row: Row<DeliveryRow>): Promise<unknown> {
    if (row.payloadBlob) return JSON.parse((await (await this.blobStore()).getText(row.payloadBlob)) ?? 'null');
    const text = joinChunks('p', row, `delivery ${row.partitionKey}/${row.rowKey.slice(2)}`);
    return text ? JSON.parse(text) : null;
  }

  private async blobStore(): Promise<BlobStore> {
    this.blobs ??= await BlobStore.open(this.cfg.container ?? 'deliveries', this.cfg.storage);
    return this.blobs;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

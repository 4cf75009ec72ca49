// The durable inbox of webhook deliveries, in the `deliveries` table. A webhook route enqueues and
// answers at once; drain() processes what is pending. A delivery id seen before is not queued again.
// Nothing is lost: a failed delivery keeps its error and is retried with backoff; after the last
// attempt it stays as 'dead' until someone retries it. A delivery its handler applied nothing of, and
// said why (the outcome's `skipped`), ends as 'skipped' with those reasons, not silently 'done'.
import { randomUUID } from 'node:crypto';
import { Table, odata, type Row } from '../platform/tables.ts';
import { BlobStore } from '../platform/blobs.ts';
import { ConcurrencyError, EntityExistsError } from '../platform/errors.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import { chunkText, joinChunks } from '../platform/row-chunks.ts';

export type DeliveryStatus = 'pending' | 'processing' | 'done' | 'skipped' | 'failed' | 'dead';

export interface Delivery {
  source: string;
  deliveryId: string;
  event: string;
  payload: unknown;
  receivedAt?: string;
}

export type DeliveryHandler = (d: Delivery & { receivedAt: string; attempt: number }) => Promise<unknown>;

interface DeliveryRow {
  event: string;
  status: DeliveryStatus;
  attempts: number;
  receivedAt: string;
  nextAttemptAt: string;
  claimedAt?: string;
  claimedBy?: string;
  processedAt?: string;
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

// Azure Tables count strings as UTF-16 (2 bytes a character) and hold at most 1 MiB a row.
const MAX_IN_ROW = 450_000;

export interface InboxConfig {
  storage?: StorageConfig;
  table?: string;
  container?: string;
  maxAttempts?: number;
  /** A claim older than this is taken over (its worker died). */
  staleAfterMs?: number;
  now?: () => Date;
}

export interface DrainResult {
  /** Processed without error, the skipped ones included. */
  done: number;
  failed: number;
  dead: number;
}

export class Inbox {
  private readonly holder = randomUUID();
  private readonly now: () => Date;
  private kicker?: () => void;

  private constructor(private readonly table: Table<DeliveryRow>, private readonly cfg: InboxConfig, private blobs?: BlobStore) {
    this.now = cfg.now ?? (() => new Date());
  }

  static async open(cfg: InboxConfig = {}): Promise<Inbox> {
    return new Inbox(await Table.open<DeliveryRow>(cfg.table ?? 'deliveries', cfg.storage), cfg);
  }

  /** Stores the delivery unless its id was seen before; `duplicate` says which. */
  async enqueue(d: Delivery): Promise<{ duplicate: boolean }> {
    if (!d.source || !d.deliveryId) throw new Error('a delivery needs a source and a delivery id');
    const text = JSON.stringify(d.payload ?? null);
    const at = (d.receivedAt ? new Date(d.receivedAt) : this.now()).toISOString();
    const row: DeliveryRow = { event: d.event, status: 'pending', attempts: 0, receivedAt: at, nextAttemptAt: at, chunks: 0 };
    if (text.length > MAX_IN_ROW) {
      const name = `${d.source}/${encodeURIComponent(d.deliveryId)}.json`;
      await (await this.blobStore()).putText(name, text, { contentType: 'application/json' });
      row.payloadBlob = name;
    } else {
      Object.assign(row, chunkText('p', text));
    }
    try {
      await this.table.insert(d.source, d.deliveryId, row);
    } catch (err) {
      if (err instanceof EntityExistsError) return { duplicate: true };
      throw err;
    }
    this.kicker?.();
    return { duplicate: false };
  }

  /** Processes every delivery that is due, oldest first. Handlers are looked up by source. */
  async drain(handlers: Record<string, DeliveryHandler>, opts: { limit?: number } = {}): Promise<DrainResult> {
    const now = this.now();
    const staleBefore = new Date(now.getTime() - (this.cfg.staleAfterMs ?? 5 * 60_000)).toISOString();
    const filter = odata`((status eq 'pending' or status eq 'failed') and nextAttemptAt le ${now.toISOString()})`
      + ` or ` + odata`(status eq 'processing' and claimedAt lt ${staleBefore})`;
    const due: Row<DeliveryRow>[] = [];
    for await (const row of this.table.query({ filter })) due.push(row);
    due.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    const result: DrainResult = { done: 0, failed: 0, dead: 0 };
    for (const row of due.slice(0, opts.limit ?? 500)) {
      const outcome = await this.process(row, handlers);
      if (outcome) result[outcome]++;
    }
    return result;
  }

  /** Puts a dead or failed delivery back in the queue. */
  async retry(source: string, deliveryId: string): Promise<boolean> {
    const row = await this.table.update(source, deliveryId, (cur) =>
      cur ? { ...cur, status: 'pending', nextAttemptAt: this.now().toISOString(), error: cur.error } : undefined);
    return !!row;
  }

  async status(source: string, deliveryId: string): Promise<{ status: DeliveryStatus; attempts: number; error?: string; findings?: string[]; skipped?: string[]; event: string } | undefined> {
    const row = await this.table.get(source, deliveryId);
    if (!row) return undefined;
    const findings = row.findings ? (JSON.parse(row.findings) as string[]) : undefined;
    const skipped = row.skipped ? (JSON.parse(row.skipped) as string[]) : undefined;
    return { status: row.status, attempts: row.attempts, error: row.error, ...(findings ? { findings } : {}), ...(skipped ? { skipped } : {}), event: row.event };
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

  private async process(row: Row<DeliveryRow>, handlers: Record<string, DeliveryHandler>): Promise<keyof DrainResult | undefined> {
    const at = this.now().toISOString();
    let claimed: Row<DeliveryRow>;
    try {
      claimed = await this.table.replace(row, { ...strip(row), status: 'processing', attempts: row.attempts + 1, claimedAt: at, claimedBy: this.holder });
    } catch (err) {
      if (err instanceof ConcurrencyError) return undefined; // another worker took it
      throw err;
    }
    const handler = handlers[row.partitionKey];
    let error: string | undefined;
    let report: Report = { findings: [], skipped: [], applied: true };
    try {
      if (!handler) throw new Error(`no handler for deliveries from '${row.partitionKey}'`);
      report = reportOf(await handler({
        source: row.partitionKey, deliveryId: row.rowKey, event: row.event, payload: await this.payloadOf(row),
        receivedAt: row.receivedAt, attempt: claimed.attempts,
      }));
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const maxAttempts = this.cfg.maxAttempts ?? 5;
    const { findings, skipped } = report;
    const status: DeliveryStatus = error ? (claimed.attempts >= maxAttempts ? 'dead' : 'failed') : !report.applied && skipped.length ? 'skipped' : 'done';
    // Back off 2^attempts seconds (2s, 4s, 8s, ...) before the next try.
    const next = new Date(this.now().getTime() + 1000 * 2 ** claimed.attempts).toISOString();
    const value: DeliveryRow = { ...strip(claimed), status, processedAt: this.now().toISOString(), nextAttemptAt: next, claimedAt: undefined, claimedBy: undefined };
    if (error) value.error = error.slice(0, 4000); else delete value.error;
    // Kept within one table property (64 KB): the first 100 findings, each cut at 500 characters.
    if (findings.length) value.findings = JSON.stringify(findings.slice(0, 100).map((f) => f.slice(0, 500))); else delete value.findings;
    if (skipped.length) value.skipped = JSON.stringify(skipped.slice(0, 100).map((f) => f.slice(0, 500))); else delete value.skipped;
    try {
      await this.table.replace(claimed, value);
    } catch (err) {
      // Taken over as stale while we worked: the other worker's outcome stands.
      if (!(err instanceof ConcurrencyError)) throw err;
    }
    return status === 'done' || status === 'skipped' ? 'done' : status === 'dead' ? 'dead' : 'failed';
  }

  private async payloadOf(row: Row<DeliveryRow>): Promise<unknown> {
    if (row.payloadBlob) return JSON.parse((await (await this.blobStore()).getText(row.payloadBlob)) ?? 'null');
    const text = joinChunks('p', row, `delivery ${row.partitionKey}/${row.rowKey}`);
    return text ? JSON.parse(text) : null;
  }

  private async blobStore(): Promise<BlobStore> {
    this.blobs ??= await BlobStore.open(this.cfg.container ?? 'deliveries', this.cfg.storage);
    return this.blobs;
  }
}

interface Report {
  findings: string[];
  skipped: string[];
  /** False when the outcome says nothing was written (no upserted or orphaned entity). */
  applied: boolean;
}

/** What a handler's outcome (IngestOutcome) reports: findings, skip reasons, and whether it wrote anything. */
function reportOf(outcome: unknown): Report {
  const o = (outcome ?? {}) as { findings?: unknown; skipped?: unknown; upserted?: unknown; orphaned?: unknown };
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const listed = Array.isArray(o.upserted) || Array.isArray(o.orphaned);
  return {
    findings: strings(o.findings),
    skipped: strings(o.skipped),
    applied: !listed || strings(o.upserted).length + strings(o.orphaned).length > 0,
  };
}

function strip(row: Row<DeliveryRow>): DeliveryRow {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...rest } = row;
  return rest as DeliveryRow;
}

// Keeps an instance's in-memory index in step with the tables other instances (and the CLI) write:
// a full load at start (and when this instance fell too far behind the journal), then refreshes
// that read only the change journal after where the last one stopped and re-read the rows it names.
import { mapLimit } from '../platform/map-limit.ts';
import type { MemoryIndex } from './memory-index.ts';
import { keyFromTable, tableKeysOf } from './refs.ts';
import { itemOf, type CatalogStore } from './store.ts';
import { BUCKET_MS, type Journal } from './journal.ts';

/** How often an instance deletes expired journal partitions. */
const PRUNE_EVERY_MS = BUCKET_MS;
/** Rows re-read at once when applying journal entries. */
const READS_AT_ONCE = 16;

export interface SyncDeps {
  index: MemoryIndex;
  store: CatalogStore;
  journal: Journal;
  now: () => Date;
  /** Whether this process is writing the entity now (its own write will set the index). */
  busy: (key: string) => boolean;
}

export class CatalogSync {
  /** Every journal entry up to this time (ms) has had both its looks (or a full load covered it). */
  private cursor: number | undefined;
  /** Entries read since `cursor - overlap`: whether each has had its settled look. */
  private readonly looked = new Map<string, { time: number; settled: boolean }>();
  private lastPrune = 0;

  constructor(private readonly d: SyncDeps) {}

  /**
   * Reads every row: index entries whose rows are gone are dropped (unless written here
   * meanwhile), the others put by version. Resolves to how many index entries changed.
   */
  async reload(): Promise<number> {
    const { index, store, journal } = this.d;
    const started = this.d.now().getTime();
    const before = new Map(index.keysWhere(() => true).map((k) => [k, index.getIndexed(k)!.etag]));
    const present = new Set<string>();
    let n = 0;
    for await (const row of store.entities.query()) {
      const key = keyFromTable(row.partitionKey, row.rowKey);
      present.add(key);
      if (index.getIndexed(key)?.etag === row.etag) continue;
      const item = itemOf(row);
      if (item && index.put(item)) n++;
    }
    for (const [key, etag] of before) {
      if (present.has(key) || this.d.busy(key) || index.getIndexed(key)?.etag !== etag) continue;
      index.remove(key);
      n++;
    }
    // A write announced up to a settle before the load began had landed when the load read its row.
    this.cursor = started - journal.opts.settleMs;
    return n;
  }

  /**
   * Picks up what other processes wrote since the last look: the journal entries after the cursor
   * (one range query; nothing else when nothing changed), each entity they name re-read by key
   * (deletes included). Falls back to a full reload when this instance is further behind than the
   * journal keeps, or when so much changed that reading it all is cheaper.
   */
  async refresh(): Promise<number> {
    const { journal } = this.d;
    const { settleMs, overlapMs, retentionMs, reloadAbove } = journal.opts;
    const now = this.d.now().getTime();
    // Partitions go whole, so a cursor within two of the retention's edge may already miss entries.
    if (this.cursor === undefined || now - this.cursor > retentionMs - 2 * BUCKET_MS) return this.reload();
    // Settled by the writer's clock, which may be up to `overlapMs` behind this one: an entry judged
    // settled too early would get its last look before its row landed.
    const settleCut = now - settleMs - overlapMs;
    const due = new Map<string, { time: number; settled: boolean }>();
    const keys = new Set<string>();
    for (const e of await journal.read(this.cursor - overlapMs)) {
      if (e.writer === journal.writer) continue; // this instance's own writes set its index
      const seen = this.looked.get(e.rowKey);
      const settled = e.time <= settleCut;
      if (seen && (seen.settled || !settled)) continue;
      due.set(e.rowKey, { time: e.time, settled });
      for (const k of e.keys) keys.add(k);
    }
    let n: number;
    if (keys.size > reloadAbove) {
      const before = this.cursor;
      n = await this.reload();
      this.cursor = Math.max(before, this.cursor!);
      // What the reload read covers every entry that had settled when it began.
      for (const [rk, v] of due) this.looked.set(rk, { time: v.time, settled: v.time <= this.cursor });
    } else {
      n = await this.apply(keys);
      for (const [rk, v] of due) this.looked.set(rk, v);
      this.cursor = Math.max(this.cursor, settleCut);
    }
    for (const [rk, v] of this.looked) if (v.time < this.cursor - overlapMs) this.looked.delete(rk);
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await journal.prune(now - retentionMs);
    }
    return n;
  }

  /** Re-reads each entity by key and takes what storage holds: the row by version, or its absence. */
  private async apply(keys: Set<string>): Promise<number> {
    const { index, store } = this.d;
    const changed = await mapLimit([...keys], READS_AT_ONCE, async (key) => {
      let pk: string, rk: string;
      try { ({ pk, rk } = tableKeysOf(key)); } catch { return false; } // not a key this version writes
      const etagBefore = index.getIndexed(key)?.etag;
      const row = await store.entities.get(pk, rk);
      const unchangedHere = index.getIndexed(key)?.etag === etagBefore;
      if (!row) {
        if (!etagBefore || !unchangedHere || this.d.busy(key)) return false;
        index.remove(key);
        return true;
      }
      if (row.etag === etagBefore) return false;
      const item = itemOf(row);
      // What storage holds now replaces the entry, unless this process put a newer one meanwhile
      // (then versions decide): another instance's clock may order createdAt otherwise.
      return !!item && index.put(item, { force: unchangedHere });
    });
    return changed.filter(Boolean).length;
  }

  /** Calls refresh() every `intervalMs` (default 5 s) until stopped. */
  startRefresh(opts: { intervalMs?: number; onError?: (err: unknown) => void } = {}): { stop(): Promise<void> } {
    let running: Promise<unknown> = Promise.resolve();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      running = this.refresh().catch((err) => opts.onError?.(err)).finally(() => { busy = false; });
    }, opts.intervalMs ?? 5000);
    timer.unref();
    return { stop: async () => { clearInterval(timer); await running; } };
  }
}

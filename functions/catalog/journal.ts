// The catalog's change journal: every write announces the entity keys it is about to change, and
// each instance's refresh reads only the entries after where it stopped (one range query), so a
// refresh costs nothing when nothing changed, whatever the size of the catalog.
//
// Partitions are minutes (`PartitionKey` the minute number, zero-padded), so expiry deletes whole
// old partitions and a read is a range over the last one or two. Row keys are the writer's clock
// in milliseconds, then the writer's random id and its own counter: they sort by time and two
// writers in the same millisecond never collide.
//
// The entry is written BEFORE the row (an intent): a writer that dies in between leaves an entry
// for a change that never happened, which readers re-read and find nothing new in; the other
// order could leave a change that nobody is ever told of. A reader may see the entry before the
// row lands, so it looks at each entry twice: when it first sees it, and once it has settled
// (`settleMs` after its time; a writer whose write takes longer announces it again when done).
// Readers re-read the rows by key and take them by version, so looking twice is harmless.
import { randomBytes } from 'node:crypto';
import { Table } from '../platform/tables.ts';
import { ConcurrencyError } from '../platform/errors.ts';
import type { StorageConfig } from '../platform/storage-config.ts';

export interface JournalOptions {
  /** How long after its entry a write has surely landed (default 10 s). */
  settleMs?: number;
  /**
   * How far behind a reader's position it reads again (default 15 s): an entry keyed by one
   * instance's clock may land after another instance read past that time (request latency,
   * clocks apart). Instances' clocks must agree within this.
   */
  overlapMs?: number;
  /** Entries older than this are deleted (default 1 h); an instance that stopped reading longer reloads. */
  retentionMs?: number;
  /** More changed entities than this in one refresh: a full reload is cheaper than reading them one by one (default 2000). */
  reloadAbove?: number;
}

export const JOURNAL_DEFAULTS: Required<JournalOptions> = { settleMs: 10_000, overlapMs: 15_000, retentionMs: 3_600_000, reloadAbove: 2000 };

export interface JournalEntry {
  rowKey: string;
  /** The writer's clock when it announced the change (ms). */
  time: number;
  writer: string;
  /** Entity keys (`kind:namespace/name`) the write changes. */
  keys: string[];
}

interface EntryRow {
  writer: string;
  keys: string[];
}

export const BUCKET_MS = 60_000;
/** Keys of one entry, by characters of JSON: well under a table column's 32K. */
const ENTRY_CHARS = 30_000;

export function bucketOf(time: number): string {
  return String(Math.max(0, Math.floor(time / BUCKET_MS))).padStart(12, '0');
}

function timeKey(time: number): string {
  return String(Math.max(0, Math.floor(time))).padStart(15, '0');
}

export class Journal {
  /** This instance's id in the entries it writes (a reader skips its own: its index has them). */
  readonly writer = randomBytes(4).toString('hex');
  private seq = 0;

  private constructor(private readonly table: Table<EntryRow>, private readonly now: () => Date, readonly opts: Required<JournalOptions>) {}

  static async open(name: string, storage: StorageConfig | undefined, opts: JournalOptions = {}, now: () => Date = () => new Date()): Promise<Journal> {
    return new Journal(await Table.open<EntryRow>(name, storage), now, { ...JOURNAL_DEFAULTS, ...opts });
  }

  get name(): string {
    return this.table.name;
  }

  /** Announces that `keys` are about to change; resolves to the entries' time. */
  async announce(keys: Iterable<string>, writer = this.writer): Promise<number> {
    const time = this.now().getTime();
    const groups: string[][] = [];
    let cur: string[] = [];
    let chars = 2;
    for (const key of new Set(keys)) {
      if (cur.length && chars + key.length + 3 > ENTRY_CHARS) { groups.push(cur); cur = []; chars = 2; }
      cur.push(key);
      chars += key.length + 3;
    }
    if (cur.length) groups.push(cur);
    const rows = groups.map((g) => ({ rowKey: `${timeKey(time)}-${this.writer}-${String(this.seq++).padStart(10, '0')}`, value: { writer, keys: g } }));
    const pk = bucketOf(time);
    for (let i = 0; i < rows.length; i += 100) {
      await this.table.batch(pk, rows.slice(i, i + 100).map((r) => ({ op: 'insert' as const, rowKey: r.rowKey, value: r.value })));
    }
    return time;
  }

  /**
   * Announces `keys`, then runs the write. Should the write (and whatever it takes back on
   * failure) end later than readers' settled look, it is announced again, so no reader keeps the
   * state it saw while the write was under way.
   */
  async around<T>(keys: Iterable<string>, write: () => Promise<T>): Promise<T> {
    const list = [...keys];
    const time = await this.announce(list);
    let failed = false;
    try {
      return await write();
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // A write that failed may still have landed (a timeout) or been only half taken back, so this
      // instance's own index may be stale too: announced under another writer id, which every
      // reader, this one included, reads.
      if (failed) await this.announce(list, `${this.writer}!`).catch(() => undefined);
      else if (this.now().getTime() - time > this.opts.settleMs / 2) await this.announce(list);
    }
  }

  /** Entries at or after `from` (ms), oldest first: one range query over the partitions since. */
  async read(from: number): Promise<JournalEntry[]> {
    const filter = `PartitionKey ge '${bucketOf(from)}' and RowKey ge '${timeKey(from)}'`;
    const out: JournalEntry[] = [];
    for await (const row of this.table.query({ filter })) {
      const time = Number(row.rowKey.slice(0, 15));
      if (!Number.isFinite(time) || !Array.isArray(row.keys)) continue; // not an entry this version wrote
      out.push({ rowKey: row.rowKey, time, writer: String(row.writer ?? ''), keys: row.keys.filter((k): k is string => typeof k === 'string') });
    }
    return out.sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));
  }

  /** Deletes every partition older than `before` (ms); several instances may prune at once. */
  async prune(before: number): Promise<number> {
    const byPk = new Map<string, string[]>();
    for await (const row of this.table.query({ filter: `PartitionKey lt '${bucketOf(before)}'`, select: ['writer'] })) {
      let l = byPk.get(row.partitionKey);
      if (!l) byPk.set(row.partitionKey, (l = []));
      l.push(row.rowKey);
    }
    let n = 0;
    for (const [pk, rks] of byPk) {
      for (let i = 0; i < rks.length; i += 100) {
        const chunk = rks.slice(i, i + 100);
        try {
          await this.table.batch(pk, chunk.map((rowKey) => ({ op: 'delete' as const, rowKey })));
        } catch (err) {
          // Another instance deleted some of them first: the rest one by one.
          if (!(err instanceof ConcurrencyError)) throw err;
          for (const rk of chunk) await this.table.delete(pk, rk);
        }
        n += chunk.length;
      }
    }
    return n;
  }
}

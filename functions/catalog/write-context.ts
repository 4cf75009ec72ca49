// What the catalog's write paths share: the index, the tables, the journal, the clock, and the
// queue that keeps this process's writes of one entity one after another.
import type { MemoryIndex } from './memory-index.ts';
import type { CatalogStore } from './store.ts';
import type { Journal } from './journal.ts';
import type { SourceInfo } from './kinds.ts';
import { prepareDoc, type Parsed, type StoredDoc } from './documents.ts';

export class WriteContext {
  /**
   * Writes of one entity in this process, one after another: each one's relation rows and index
   * entry follow its own table write, so a slower earlier writer never lands after a later one.
   * (Other processes are kept apart by ETags, and the index by the row version.)
   */
  private readonly writing = new Map<string, Promise<unknown>>();

  constructor(readonly index: MemoryIndex, readonly store: CatalogStore, readonly journal: Journal, readonly now: () => Date) {}

  /** Whether this process is writing the entity now. */
  busy(key: string): boolean {
    return this.writing.has(key);
  }

  serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.writing.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(fn);
    const tail = mine.catch(() => undefined);
    this.writing.set(key, tail);
    void tail.then(() => { if (this.writing.get(key) === tail) this.writing.delete(key); });
    return mine;
  }

  /** One entity's write, in turn with this process's others of it, announced in the journal first. */
  writeOne<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.serially(key, () => this.journal.around([key], fn));
  }

  prepare(e: Parsed, source: SourceInfo, prev?: StoredDoc['entity']['status'], touch = true): StoredDoc {
    return prepareDoc(this.index, this.now().toISOString(), e, source, prev, touch);
  }

  /** Whether `target` declares the `type` relation back to `key` itself (then its rows stay). */
  declaredBack(key: string): (target: string, type: string) => boolean {
    return (target, type) => !!this.index.getIndexed(target)?.declared.some((d) => d.type === type && d.target === key);
  }
}

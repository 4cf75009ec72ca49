// A table that only grows: audit trails and run histories.
import { EntityExistsError } from '../errors.ts';
import type { StorageConfig } from '../storage-config.ts';
import type { Row } from './encoding.ts';
import { NewestFirstKeys } from './newest-first.ts';
import { Table, type Page, type PageOptions, type QueryOptions } from './table.ts';

/**
 * Rows sort newest first within a partition. There is deliberately no update, upsert or delete
 * here, not even a hidden one.
 */
export class AppendOnlyTable<T extends object> {
  readonly #table: Table<T>;
  /** This table's rows of this process sort in the order they were appended, even within a millisecond. */
  readonly #keys = new NewestFirstKeys();

  private constructor(table: Table<T>) {
    this.#table = table;
  }

  static async open<T extends object>(name: string, cfg?: StorageConfig): Promise<AppendOnlyTable<T>> {
    return new AppendOnlyTable<T>(await Table.open<T>(name, cfg));
  }

  get name(): string {
    return this.#table.name;
  }

  /** Inserts under a fresh row key that sorts before every earlier one of this table object. */
  async append(pk: string, value: T): Promise<Row<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#table.insert(pk, this.#keys.next(), value);
      } catch (err) {
        // Two processes in the same millisecond with the same random suffix: draw again.
        if (!(err instanceof EntityExistsError) || attempt >= 5) throw err;
      }
    }
  }

  get(pk: string, rk: string): Promise<Row<T> | undefined> {
    return this.#table.get(pk, rk);
  }

  query(opts?: QueryOptions): AsyncIterable<Row<T>> {
    return this.#table.query(opts);
  }

  page(opts: PageOptions): Promise<Page<T>> {
    return this.#table.page(opts);
  }

  /** The newest row of a partition (with partitionKey), or of the first partition. */
  first(opts?: QueryOptions): Promise<Row<T> | undefined> {
    return this.#table.first(opts);
  }
}

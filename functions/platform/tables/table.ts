// A table of plain JSON objects, with ETag concurrency on every write that depends on what was
// read. Keys are escaped on the way in and unescaped on the way out (see keys.ts); values are
// encoded as in encoding.ts.
import type { TableClient, TableEntity } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { storageConfig, type StorageConfig } from '../storage-config.ts';
import { retryOnConflict } from '../conflict-retry.ts';
import { ConcurrencyError, EntityExistsError, StorageInputError, codeOf, statusOf, wrapStorageError } from '../errors.ts';
import { submitBatch, type BatchOp } from './batch.ts';
import { isContinuationToken } from './continuation.ts';
import { decodeRow, encodeRow, selectColumns, writtenRow, type Row } from './encoding.ts';
import { MAX_KEY, keyText, kindOf, tableKey } from './keys.ts';
import { checkTableName, ensureTable } from './provision.ts';

export interface QueryOptions {
  partitionKey?: string;
  /** An OData filter; build it with the odata`` tag so values are quoted safely. */
  filter?: string;
  /** Only these value fields (keys and etag always come back). */
  select?: string[];
}

export interface PageOptions extends QueryOptions {
  /** 1..1000 (Azure's maximum). A page may hold fewer rows and still have a continuation token. */
  pageSize: number;
  continuationToken?: string;
}

export interface Page<T> {
  items: Row<T>[];
  continuationToken?: string;
}

export interface UpdateOptions {
  /** How many read-modify-write rounds before giving up with ConcurrencyError. Default 50. */
  maxAttempts?: number;
}

export class Table<T extends object> {
  private constructor(readonly name: string, private readonly client: TableClient) {}

  /** Opens a table, creating it if missing. */
  static async open<T extends object>(name: string, cfg?: StorageConfig): Promise<Table<T>> {
    checkTableName(name);
    cfg ??= storageConfig();
    await ensureTable(cfg, name);
    return new Table<T>(name, cfg.tableClient(name));
  }

  async get(pk: string, rk: string): Promise<Row<T> | undefined> {
    const [epk, erk] = this.keys(pk, rk);
    try {
      return decodeRow<T>(await this.client.getEntity(epk, erk));
    } catch (err) {
      if (statusOf(err) === 404 && codeOf(err) !== 'TableNotFound') return undefined;
      throw wrapStorageError(err, this.where(pk, rk, 'get'));
    }
  }

  /** Creates the row; throws EntityExistsError when it is already there. */
  async insert(pk: string, rk: string, value: T): Promise<Row<T>> {
    const [epk, erk] = this.keys(pk, rk);
    const props = this.encode(pk, rk, value);
    try {
      const res = await this.client.createEntity({ ...props, partitionKey: epk, rowKey: erk });
      return writtenRow(pk, rk, res.etag!, value);
    } catch (err) {
      if (statusOf(err) === 409 && codeOf(err) !== 'TableBeingDeleted') throw new EntityExistsError(this.name, pk, rk, { cause: err });
      throw wrapStorageError(err, this.where(pk, rk, 'insert'));
    }
  }

  /** Replaces the row only if it is unchanged since `row` was read; ConcurrencyError otherwise. */
  async replace(row: Row<T>, value: T): Promise<Row<T>> {
    const { partitionKey: pk, rowKey: rk, etag } = row ?? ({} as Row<T>);
    if (typeof etag !== 'string' || !etag) {
      throw new StorageInputError(
        `${this.where(pk, rk, 'replace')}: the row has no etag; pass the row as read by get/query, or use upsert`,
      );
    }
    const [epk, erk] = this.keys(pk, rk);
    const props = this.encode(pk, rk, value);
    try {
      const res = await this.client.updateEntity({ ...props, partitionKey: epk, rowKey: erk }, 'Replace', { etag });
      return writtenRow(pk, rk, res.etag!, value);
    } catch (err) {
      throw this.conflictOr(err, pk, rk, 'replace');
    }
  }

  /** Writes the row whatever is there (last writer wins). */
  async upsert(pk: string, rk: string, value: T): Promise<Row<T>> {
    const [epk, erk] = this.keys(pk, rk);
    const props = this.encode(pk, rk, value);
    try {
      const res = await this.client.upsertEntity({ ...props, partitionKey: epk, rowKey: erk }, 'Replace');
      return writtenRow(pk, rk, res.etag!, value);
    } catch (err) {
      throw wrapStorageError(err, this.where(pk, rk, 'upsert'));
    }
  }

  /**
   * Read-modify-write with optimistic concurrency: `fn` gets the current value (undefined when the
   * row does not exist) and returns the new one; on an ETag conflict it runs again on the fresh
   * value. Returning undefined writes nothing and resolves to the current row.
   * `fn` may run several times, so it must not have side effects.
   */
  update(pk: string, rk: string, fn: (cur: Row<T> | undefined) => T | Promise<T>, opts?: UpdateOptions): Promise<Row<T>>;
  update(
    pk: string, rk: string,
    fn: (cur: Row<T> | undefined) => T | undefined | Promise<T | undefined>,
    opts?: UpdateOptions,
  ): Promise<Row<T> | undefined>;
  async update(
    pk: string, rk: string,
    fn: (cur: Row<T> | undefined) => T | undefined | Promise<T | undefined>,
    opts: UpdateOptions = {},
  ): Promise<Row<T> | undefined> {
    return retryOnConflict(async () => {
      const cur = await this.get(pk, rk);
      const next = await fn(cur);
      if (next === undefined) return cur;
      return cur ? await this.replace(cur, next) : await this.insert(pk, rk, next);
    }, {
      maxAttempts: opts.maxAttempts ?? 50,
      isConflict: (err) => err instanceof ConcurrencyError || err instanceof EntityExistsError,
      giveUp: (err, attempts) => new ConcurrencyError(
        `table '${this.name}'`, keyText(pk, rk),
        `update gave up after ${attempts} attempts: other writers kept changing the row`, { cause: err },
      ),
    });
  }

  /** Deletes the row (only if unchanged when etag is given). Resolves false when it was not there. */
  async delete(pk: string, rk: string, etag?: string): Promise<boolean> {
    const [epk, erk] = this.keys(pk, rk);
    try {
      await this.client.deleteEntity(epk, erk, { etag: etag ?? '*' });
      return true;
    } catch (err) {
      if (statusOf(err) === 404 && codeOf(err) !== 'TableNotFound') return false;
      throw this.conflictOr(err, pk, rk, 'delete');
    }
  }

  async *query(opts: QueryOptions = {}): AsyncIterable<Row<T>> {
    const filter = this.filterOf(opts);
    const select = opts.select ? selectColumns(opts.select, `table '${this.name}'`) : undefined;
    try {
      for await (const entity of this.client.listEntities({ queryOptions: { filter, select } })) {
        yield decodeRow<T>(entity);
      }
    } catch (err) {
      throw wrapStorageError(err, `table '${this.name}': query${filter ? ` (filter ${filter})` : ''}`);
    }
  }

  /** One page of a query; pass the returned continuationToken back for the next one. */
  async page(opts: PageOptions): Promise<Page<T>> {
    const { pageSize, continuationToken } = opts;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new StorageInputError(`table '${this.name}': pageSize must be an integer from 1 to 1000, got ${pageSize}`);
    }
    if (continuationToken !== undefined && !isContinuationToken(continuationToken)) {
      throw new StorageInputError(`table '${this.name}': continuationToken '${continuationToken}' is not one this store issued`);
    }
    const filter = this.filterOf(opts);
    const select = opts.select ? selectColumns(opts.select, `table '${this.name}'`) : undefined;
    try {
      const pages = this.client
        .listEntities({ queryOptions: { filter, select } })
        .byPage({ maxPageSize: pageSize, continuationToken });
      const { value } = await pages.next();
      const items = ((value ?? []) as TableEntity<Record<string, unknown>>[]).map((e) => decodeRow<T>(e));
      const next = (value as { continuationToken?: string } | undefined)?.continuationToken;
      return next ? { items, continuationToken: next } : { items };
    } catch (err) {
      throw wrapStorageError(err, `table '${this.name}': page${filter ? ` (filter ${filter})` : ''}`);
    }
  }

  /**
   * The first row a query yields, or undefined. Unlike page({ pageSize: 1 }) it follows
   * continuation tokens: Azure may answer a page with no rows and a token to go on.
   */
  async first(opts: QueryOptions = {}): Promise<Row<T> | undefined> {
    let continuationToken: string | undefined;
    do {
      const page = await this.page({ ...opts, pageSize: 1, continuationToken });
      if (page.items.length) return page.items[0];
      continuationToken = page.continuationToken;
    } while (continuationToken);
    return undefined;
  }

  /** Up to 100 operations on one partition, all or nothing. Returns each row's new etag (none for delete). */
  batch(pk: string, ops: BatchOp<T>[]): Promise<{ rowKey: string; etag?: string }[]> {
    return submitBatch<T>({
      name: this.name, client: this.client,
      keys: (p, r) => this.keys(p, r),
      encode: (p, r, v) => this.encode(p, r, v),
    }, pk, ops);
  }

  private encode(pk: string, rk: string, value: T): Record<string, unknown> {
    return encodeRow(pk, rk, value, this.where(pk, rk, 'write'));
  }

  private keys(pk: string, rk: string): [string, string] {
    const check = (label: string, k: unknown): string => {
      if (typeof k !== 'string') {
        throw new StorageInputError(`table '${this.name}': ${label} must be a string, got ${kindOf(k)}`);
      }
      const escaped = tableKey(k);
      if (escaped.length > MAX_KEY) {
        throw new StorageInputError(`table '${this.name}': ${label} '${k.slice(0, 40)}...' is ${escaped.length} characters once escaped; the limit is ${MAX_KEY}`);
      }
      return escaped;
    };
    return [check('partitionKey', pk), check('rowKey', rk)];
  }

  private filterOf(opts: { partitionKey?: string; filter?: string }): string | undefined {
    const parts: string[] = [];
    if (opts.partitionKey !== undefined) {
      parts.push(odata`PartitionKey eq ${this.keys(opts.partitionKey, '')[0]}`);
    }
    if (opts.filter !== undefined) {
      if (typeof opts.filter !== 'string' || !opts.filter.trim()) {
        throw new StorageInputError(`table '${this.name}': filter must be a non-empty OData expression`);
      }
      parts.push(parts.length ? `(${opts.filter})` : opts.filter);
    }
    return parts.length ? parts.join(' and ') : undefined;
  }

  private conflictOr(err: unknown, pk: string, rk: string, op: string): Error {
    const status = statusOf(err);
    if (status === 412) return new ConcurrencyError(`table '${this.name}'`, keyText(pk, rk), `${op} refused: the row changed since it was read (ETag mismatch)`, { cause: err });
    if (status === 404 && codeOf(err) !== 'TableNotFound') return new ConcurrencyError(`table '${this.name}'`, keyText(pk, rk), `${op} refused: the row was deleted since it was read`, { cause: err });
    return wrapStorageError(err, this.where(pk, rk, op));
  }

  private where(pk: unknown, rk: unknown, op: string): string {
    return `table '${this.name}': ${op} ${keyText(pk, rk)}`;
  }
}

// Azure Table storage for Nexus: plain JSON objects in, plain JSON objects out, with ETag
// concurrency on every write that depends on what was read.
//
// - Top-level string/number/boolean fields are real table properties (so filters work on them);
//   objects, arrays and null are stored as JSON text and listed in the `_json` property so they
//   come back as they went in.
// - Keys are escaped with tableKey() on the way in and unescaped on the way out: callers use any
//   string, including the characters Azure forbids in keys (/ \ # ?).
import { odata, type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { storageConfig, type StorageConfig } from './storage-config.ts';
import { retryOnConflict } from './conflict-retry.ts';
import {
  ConcurrencyError, EntityExistsError, StorageInputError, codeOf, statusOf, wrapStorageError,
} from './errors.ts';

export { odata };

export type Row<T> = T & { partitionKey: string; rowKey: string; etag: string; timestamp?: string };

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

export type BatchOp<T> =
  | { op: 'insert'; rowKey: string; value: T }
  | { op: 'upsert'; rowKey: string; value: T }
  | { op: 'replace'; rowKey: string; value: T; etag: string }
  | { op: 'delete'; rowKey: string };

export interface UpdateOptions {
  /** How many read-modify-write rounds before giving up with ConcurrencyError. Default 50. */
  maxAttempts?: number;
}

/** The property that lists which properties hold JSON text. */
const JSON_FIELDS = '_json';
/** The row's own fields in Row<T>; never stored as data. */
const META = new Set(['partitionKey', 'rowKey', 'etag', 'timestamp']);
const RESERVED = new Set(['PartitionKey', 'RowKey', 'Timestamp', JSON_FIELDS]);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Azure Table allows 64 KiB per string property, i.e. 32K UTF-16 code units. */
const MAX_STRING = 32 * 1024;
const MAX_KEY = 1024;
/** Azure's limits per entity: 255 properties including the three system ones, and 1 MiB. */
const MAX_PROPERTIES = 252;
const MAX_ENTITY_BYTES = 1024 * 1024;

// Forbidden by Azure in keys: / \ # ? and control characters. '~' is our escape character and
// '%' is escaped too because it is decoded twice on some request paths.
const KEY_ESCAPE = /[/\\#?~%\u0000-\u001f\u007f-\u009f]/g;

/** Escapes a string for use as a PartitionKey or RowKey (reversible with untableKey). */
export function tableKey(s: string): string {
  return s.replace(KEY_ESCAPE, (c) => '~' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

export function untableKey(s: string): string {
  return s.replace(/~([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const created = new WeakMap<StorageConfig, Map<string, Promise<void>>>();

function ensureTable(cfg: StorageConfig, name: string): Promise<void> {
  let tables = created.get(cfg);
  if (!tables) created.set(cfg, (tables = new Map()));
  let ready = tables.get(name);
  if (!ready) {
    // createTable treats "already exists" as success.
    ready = cfg.tableService().createTable(name).then(
      () => undefined,
      (err) => {
        tables!.delete(name);
        throw wrapStorageError(err, `table '${name}': cannot create it`);
      },
    );
    tables.set(name, ready);
  }
  return ready;
}

export function checkTableName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name) || /^tables$/i.test(name)) {
    throw new StorageInputError(
      `table name '${name}' is not valid: 3-63 letters and digits, starting with a letter (and not 'tables')`,
    );
  }
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
      return this.decode(await this.client.getEntity(epk, erk));
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
      return this.rowOf(pk, rk, res.etag!, value);
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
      return this.rowOf(pk, rk, res.etag!, value);
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
      return this.rowOf(pk, rk, res.etag!, value);
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
    const select = opts.select ? this.selectOf(opts.select) : undefined;
    try {
      for await (const entity of this.client.listEntities({ queryOptions: { filter, select } })) {
        yield this.decode(entity);
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
    const select = opts.select ? this.selectOf(opts.select) : undefined;
    try {
      const pages = this.client
        .listEntities({ queryOptions: { filter, select } })
        .byPage({ maxPageSize: pageSize, continuationToken });
      const { value } = await pages.next();
      const items = ((value ?? []) as TableEntity<Record<string, unknown>>[]).map((e) => this.decode(e));
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
  async batch(pk: string, ops: BatchOp<T>[]): Promise<{ rowKey: string; etag?: string }[]> {
    if (!Array.isArray(ops) || ops.length === 0 || ops.length > 100) {
      throw new StorageInputError(`table '${this.name}': batch on partitionKey '${pk}' needs 1 to 100 operations, got ${ops?.length}`);
    }
    const seen = new Set<string>();
    const epk = this.keys(pk, '')[0];
    const actions: TransactionAction[] = ops.map((op, i) => {
      if (seen.has(op.rowKey)) {
        throw new StorageInputError(`table '${this.name}': batch on partitionKey '${pk}' touches rowKey '${op.rowKey}' twice (operation ${i})`);
      }
      seen.add(op.rowKey);
      const erk = this.keys(pk, op.rowKey)[1];
      if (op.op === 'delete') return ['delete', { partitionKey: epk, rowKey: erk }];
      const entity = { ...this.encode(pk, op.rowKey, op.value), partitionKey: epk, rowKey: erk };
      switch (op.op) {
        case 'insert': return ['create', entity];
        case 'upsert': return ['upsert', entity, 'Replace'];
        case 'replace': return ['update', entity, 'Replace', { etag: op.etag }];
        default: throw new StorageInputError(`table '${this.name}': batch operation ${i} has unknown op '${(op as { op: unknown }).op}'`);
      }
    });
    try {
      const res = await this.client.submitTransaction(actions);
      return ops.map((op, i) => ({ rowKey: op.rowKey, etag: op.op === 'delete' ? undefined : res.subResponses[i]?.etag }));
    } catch (err) {
      const status = statusOf(err);
      const where = `table '${this.name}': batch on partitionKey '${pk}'`;
      if (status === 409 && codeOf(err) === 'EntityAlreadyExists') {
        throw new EntityExistsError(this.name, pk, '(one of the inserted rows)', { cause: err });
      }
      if (status === 412 || status === 404) {
        throw new ConcurrencyError(where, '(batch)', 'a replaced or deleted row changed or is missing; nothing was written', { cause: err });
      }
      throw wrapStorageError(err, where);
    }
  }

  // ---- encoding -------------------------------------------------------------------------------

  private encode(pk: string, rk: string, value: T): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new StorageInputError(`${this.where(pk, rk, 'write')}: the value must be a JSON object, got ${kindOf(value)}`);
    }
    const props: Record<string, unknown> = {};
    const json: string[] = [];
    for (const [name, v] of Object.entries(value)) {
      if (META.has(name) || v === undefined) continue;
      const at = () => `${this.where(pk, rk, 'write')}: field '${name}'`;
      if (RESERVED.has(name) || !/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(name)) {
        throw new StorageInputError(`${at()} is not a valid column name (letters, digits and _, not starting with a digit; not PartitionKey, RowKey, Timestamp or _json)`);
      }
      let stored: unknown;
      if (typeof v === 'string' || typeof v === 'boolean') {
        stored = v;
      } else if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new StorageInputError(`${at()} is ${v}, which JSON cannot hold`);
        // Untyped integers outside Int32 are not accepted as such; say Double explicitly.
        stored = Number.isInteger(v) && (v < INT32_MIN || v > INT32_MAX) ? { value: v, type: 'Double' } : v;
      } else if (typeof v === 'object') {
        stored = JSON.stringify(v);
        json.push(name);
      } else {
        throw new StorageInputError(`${at()} is a ${typeof v}, which is not JSON`);
      }
      if (typeof stored === 'string' && stored.length > MAX_STRING) {
        throw new StorageInputError(`${at()} is ${stored.length} characters; a table column holds at most ${MAX_STRING}. Keep large content in a blob`);
      }
      props[name] = stored;
    }
    if (json.length) props[JSON_FIELDS] = json.join(',');
    const count = Object.keys(props).length;
    if (count > MAX_PROPERTIES) {
      throw new StorageInputError(`${this.where(pk, rk, 'write')}: the value has ${count} columns; a table row holds at most ${MAX_PROPERTIES}. Nest related fields in an object (stored as one JSON column)`);
    }
    const bytes = entityBytes(tableKey(pk), tableKey(rk), props);
    if (bytes > MAX_ENTITY_BYTES) {
      throw new StorageInputError(`${this.where(pk, rk, 'write')}: the row is about ${bytes} bytes; Azure Table rows hold at most ${MAX_ENTITY_BYTES}. Keep large content in a blob`);
    }
    return props;
  }

  private decode(entity: Record<string, unknown>): Row<T> {
    const { partitionKey, rowKey, etag, timestamp, [JSON_FIELDS]: jsonFields, ...rest } = entity;
    const out: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(rest)) {
      if (v === null || v === undefined) continue; // a selected column the row does not have
      if (name.startsWith('odata.')) continue; // service metadata, not data
      if (typeof v === 'bigint') out[name] = Number(v);
      else if (v instanceof Date) out[name] = v.toISOString();
      else out[name] = v;
    }
    if (typeof jsonFields === 'string' && jsonFields) {
      for (const name of jsonFields.split(',')) {
        if (typeof out[name] !== 'string') continue;
        try {
          out[name] = JSON.parse(out[name] as string);
        } catch {
          // Written by something else than this module: keep the text rather than lose the row.
        }
      }
    }
    out.partitionKey = untableKey(String(partitionKey ?? ''));
    out.rowKey = untableKey(String(rowKey ?? ''));
    out.etag = String(etag ?? '');
    if (timestamp !== undefined && timestamp !== null) {
      out.timestamp = timestamp instanceof Date ? timestamp.toISOString() : String(timestamp);
    }
    return out as Row<T>;
  }

  private rowOf(pk: string, rk: string, etag: string, value: T): Row<T> {
    const out: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(value)) {
      if (!META.has(name) && v !== undefined) out[name] = v;
    }
    return { ...out, partitionKey: pk, rowKey: rk, etag } as Row<T>;
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

  private selectOf(fields: string[]): string[] {
    for (const f of fields) {
      if (typeof f !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f)) {
        throw new StorageInputError(`table '${this.name}': select field '${f}' is not a column name`);
      }
    }
    // Keys are always returned; the JSON marker is needed to restore the selected JSON columns.
    return [...new Set(['PartitionKey', 'RowKey', 'Timestamp', ...fields.filter((f) => !META.has(f)), JSON_FIELDS])];
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

/**
 * A table that only grows: audit trails and run histories. Rows sort newest first within a
 * partition. There is deliberately no update, upsert or delete here, not even a hidden one.
 */
export class AppendOnlyTable<T extends object> {
  readonly #table: Table<T>;

  private constructor(table: Table<T>) {
    this.#table = table;
  }

  static async open<T extends object>(name: string, cfg?: StorageConfig): Promise<AppendOnlyTable<T>> {
    return new AppendOnlyTable<T>(await Table.open<T>(name, cfg));
  }

  get name(): string {
    return this.#table.name;
  }

  /** Inserts under a fresh row key that sorts before every earlier one in this process. */
  async append(pk: string, value: T): Promise<Row<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#table.insert(pk, newestFirstKey(), value);
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

// Row keys newest first: inverted microsecond clock, kept strictly decreasing in this process,
// plus a random suffix so concurrent processes never collide.
const MAX_MICROS = 8_999_999_999_999_999; // below 2^53; about year 2255 in microseconds
let lastMicros = 0;

export function newestFirstKey(now = Date.now()): string {
  lastMicros = Math.max(now * 1000, lastMicros + 1);
  const inverted = String(MAX_MICROS - lastMicros).padStart(16, '0');
  const suffix = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${inverted}-${suffix}`;
}

/** Azure's documented size formula for an entity (strings count two bytes per UTF-16 unit). */
function entityBytes(pk: string, rk: string, props: Record<string, unknown>): number {
  let size = 4 + (pk.length + rk.length) * 2;
  for (const [name, v] of Object.entries(props)) {
    const value = typeof v === 'string' ? 4 + v.length * 2 : typeof v === 'boolean' ? 1 : 8;
    size += 8 + name.length * 2 + value;
  }
  return size;
}

/**
 * Whether a token is shaped like one Azure Tables issues (base64 of {nextPartitionKey, nextRowKey},
 * each an opaque key of the service's own alphabet): a forged one is refused before it is sent.
 */
export function isContinuationToken(token: unknown): boolean {
  if (typeof token !== 'string' || !token || token.length > 4 * MAX_KEY || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return false;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
    const okKey = (k: unknown) => typeof k === 'string' && k.length <= MAX_KEY && /^[A-Za-z0-9+/=!*_.~-]*$/.test(k);
    const keys = Object.keys(parsed);
    const t = parsed as { nextPartitionKey?: unknown; nextRowKey?: unknown };
    return okKey(t.nextPartitionKey) && (t.nextRowKey === undefined || okKey(t.nextRowKey))
      && keys.every((k) => k === 'nextPartitionKey' || k === 'nextRowKey');
  } catch {
    return false;
  }
}

function keyText(pk: unknown, rk: unknown): string {
  return `partitionKey '${String(pk)}' rowKey '${String(rk)}'`;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

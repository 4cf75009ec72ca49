// Table names and creating tables on first use (once per storage configuration and name).
import { StorageInputError, wrapStorageError } from '../errors.ts';
import type { StorageConfig } from '../storage-config.ts';

export function checkTableName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name) || /^tables$/i.test(name)) {
    throw new StorageInputError(
      `table name '${name}' is not valid: 3-63 letters and digits, starting with a letter (and not 'tables')`,
    );
  }
}

// Creations under way or done, per configuration: tied to the config object's life (a WeakMap),
// so nothing outlives the configuration it was made for.
const created = new WeakMap<StorageConfig, Map<string, Promise<void>>>();

export function ensureTable(cfg: StorageConfig, name: string): Promise<void> {
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

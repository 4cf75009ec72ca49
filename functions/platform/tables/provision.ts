// Table names and creating tables on first use (once per storage configuration and name).
import { StorageInputError, wrapStorageError } from '../errors.ts';
import type { StorageConfig } from '../storage-config.ts';
import { ensureOnce } from '../provisioned.ts';

export function checkTableName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name) || /^tables$/i.test(name)) {
    throw new StorageInputError(
      `table name '${name}' is not valid: 3-63 letters and digits, starting with a letter (and not 'tables')`,
    );
  }
}

export function ensureTable(cfg: StorageConfig, name: string): Promise<void> {
  // createTable treats "already exists" as success.
  return ensureOnce(cfg, `table '${name}'`, () => cfg.tableService().createTable(name));
}

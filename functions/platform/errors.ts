// Storage errors callers can branch on. Each message names the table or blob and the key at fault.

/** Base class: every storage failure that Nexus explains itself. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** insert() found a row with the same keys already there. */
export class EntityExistsError extends StorageError {
  constructor(readonly table: string, readonly partitionKey: string, readonly rowKey: string, options?: { cause?: unknown }) {
    super(`table '${table}': a row with partitionKey '${partitionKey}' and rowKey '${rowKey}' already exists`, options);
  }
}

/** The row or blob changed (or vanished) since it was read: its ETag no longer matches. */
export class ConcurrencyError extends StorageError {
  constructor(readonly target: string, readonly key: string, detail = 'it changed since it was read (ETag mismatch)', options?: { cause?: unknown }) {
    super(`${target}: ${key}: ${detail}`, options);
  }
}

/** A key, name or value Azure Storage would reject; raised before any request is sent. */
export class StorageInputError extends StorageError {}

/** Storage is not configured, or the configuration cannot work. */
export class StorageConfigError extends StorageError {}

/** Reads the HTTP status of an Azure SDK RestError (or anything shaped like one). */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Reads the Azure Storage error code (e.g. 'EntityAlreadyExists', 'LeaseAlreadyPresent'). */
export function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; details?: { errorCode?: unknown; odataError?: { code?: unknown } } } | null;
  const code = e?.details?.errorCode ?? e?.details?.odataError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Wraps an unexpected SDK error so the message says which table/blob and key it was about. */
export function wrapStorageError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const status = statusOf(err);
  const code = codeOf(err);
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
  const tag = [status, code].filter((x) => x !== undefined).join(' ');
  return new StorageError(`${what}: ${tag ? `${tag}: ` : ''}${reason}`, { cause: err });
}

// Entity group transactions: up to 100 operations on one partition, all or nothing.
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { ConcurrencyError, EntityExistsError, StorageInputError, codeOf, statusOf, wrapStorageError } from '../errors.ts';

export type BatchOp<T> =
  | { op: 'insert'; rowKey: string; value: T }
  | { op: 'upsert'; rowKey: string; value: T }
  | { op: 'replace'; rowKey: string; value: T; etag: string }
  | { op: 'delete'; rowKey: string };

/** What a batch needs of its table: the client, and how keys and values become properties. */
export interface BatchTarget<T> {
  name: string;
  client: TableClient;
  /** Escaped (partition, row) keys; throws on a bad key. */
  keys(pk: string, rk: string): [string, string];
  encode(pk: string, rk: string, value: T): Record<string, unknown>;
}

/** Runs the operations as one transaction. Returns each row's new etag (none for delete). */
export async function submitBatch<T>(t: BatchTarget<T>, pk: string, ops: BatchOp<T>[]): Promise<{ rowKey: string; etag?: string }[]> {
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > 100) {
    throw new StorageInputError(`table '${t.name}': batch on partitionKey '${pk}' needs 1 to 100 operations, got ${ops?.length}`);
  }
  const seen = new Set<string>();
  const epk = t.keys(pk, '')[0];
  const actions: TransactionAction[] = ops.map((op, i) => {
    if (seen.has(op.rowKey)) {
      throw new StorageInputError(`table '${t.name}': batch on partitionKey '${pk}' touches rowKey '${op.rowKey}' twice (operation ${i})`);
    }
    seen.add(op.rowKey);
    const erk = t.keys(pk, op.rowKey)[1];
    if (op.op === 'delete') return ['delete', { partitionKey: epk, rowKey: erk }];
    const entity = { ...t.encode(pk, op.rowKey, op.value), partitionKey: epk, rowKey: erk };
    switch (op.op) {
      case 'insert': return ['create', entity];
      case 'upsert': return ['upsert', entity, 'Replace'];
      case 'replace': return ['update', entity, 'Replace', { etag: op.etag }];
      default: throw new StorageInputError(`table '${t.name}': batch operation ${i} has unknown op '${(op as { op: unknown }).op}'`);
    }
  });
  try {
    const res = await t.client.submitTransaction(actions);
    return ops.map((op, i) => ({ rowKey: op.rowKey, etag: op.op === 'delete' ? undefined : res.subResponses[i]?.etag }));
  } catch (err) {
    const status = statusOf(err);
    const where = `table '${t.name}': batch on partitionKey '${pk}'`;
    if (status === 409 && codeOf(err) === 'EntityAlreadyExists') {
      throw new EntityExistsError(t.name, pk, '(one of the inserted rows)', { cause: err });
    }
    if (status === 412 || status === 404) {
      throw new ConcurrencyError(where, '(batch)', 'a replaced or deleted row changed or is missing; nothing was written', { cause: err });
    }
    throw wrapStorageError(err, where);
  }
}

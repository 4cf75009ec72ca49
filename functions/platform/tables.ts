// Azure Table storage for Nexus: plain JSON objects in, plain JSON objects out, with ETag
// concurrency on every write that depends on what was read. The parts live in ./tables/:
// the Table itself, row encoding, key escaping, batches, continuation tokens, newest-first keys
// and the append-only table; this module is where the rest of the code imports them from.
export { odata } from '@azure/data-tables';
export { Table, type Page, type PageOptions, type QueryOptions, type UpdateOptions } from './tables/table.ts';
export { AppendOnlyTable } from './tables/append-only.ts';
export type { BatchOp } from './tables/batch.ts';
export type { Row } from './tables/encoding.ts';
export { isContinuationToken } from './tables/continuation.ts';
export { tableKey, untableKey } from './tables/keys.ts';
export { NewestFirstKeys, newestFirstKey } from './tables/newest-first.ts';
export { checkTableName } from './tables/provision.ts';

// The append-only audit trail: who did what, when and why. Built on AppendOnlyTable, which has
// no update or delete, so nothing in this code path can change a row once written.
import type { StorageConfig } from '../../platform/storage-config.ts';
import { AppendOnlyTable } from '../../platform/tables.ts';

export type AuditAction =
  | 'apply' | 'apply-failed' | 'block' | 'hold' | 'report-only' | 'run-interrupted'
  | 'approval-requested' | 'approve' | 'reject'
  | 'killswitch-on' | 'killswitch-off'
  | 'ratelimit-cooldown' | 'ratelimit-override' | 'ratelimit-override-cleared'
  | 'push-refused';

export interface AuditEntry {
  at: string;
  /** Who: a principal (email or id), or `nexus:<holder>` for the reconciler itself. */
  actor: string;
  action: AuditAction;
  /** What: a stack name, or `tenant` for central switches. */
  target: string;
  why?: string;
  runId?: string;
  details?: Record<string, unknown>;
}

export class AuditLog {
  private constructor(private readonly table: AppendOnlyTable<AuditEntry>) {}

  static async open(cfg: StorageConfig): Promise<AuditLog> {
    return new AuditLog(await AppendOnlyTable.open<AuditEntry>('audit', cfg));
  }

  async record(entry: Omit<AuditEntry, 'at'> & { at?: string }): Promise<AuditEntry> {
    const full: AuditEntry = { ...entry, at: entry.at ?? new Date().toISOString() };
    await this.table.append(full.target, full);
    return full;
  }

  /** Newest first; `target` narrows to one stack (or `tenant`). */
  async list(opts: { target?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = opts.limit ?? 100;
    const rows: { key: string; entry: AuditEntry }[] = [];
    for await (const r of this.table.query(opts.target ? { partitionKey: opts.target } : {})) {
      const { partitionKey: _p, rowKey, etag: _e, timestamp: _t, ...entry } = r;
      rows.push({ key: rowKey, entry: entry as AuditEntry });
      if (opts.target && rows.length >= limit) break;
    }
    // Row keys are an inverted clock: sorting them puts the newest first across partitions.
    return rows.sort((a, b) => (a.key < b.key ? -1 : 1)).slice(0, limit).map((r) => r.entry);
  }
}

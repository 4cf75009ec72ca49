// Run history: one `runs` table row per run (twice: under its stack, and under `~all` for
// lookups by id and the all-stacks listing), the full preview/apply output in blob `runs/<id>`,
// and one summary row per stack.
import { BlobStore } from '../../platform/blobs.ts';
import type { StorageConfig } from '../../platform/storage-config.ts';
import { NewestFirstKeys, Table, newestFirstKey } from '../../platform/tables.ts';
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { GateResult, RunRecord } from '../model.ts';

const ALL = '~all';
const STACKS = '~stacks';

/** Gate verdicts as kept in the table row: the full details live in the blob. */
export type GateSummary = Pick<GateResult, 'gate' | 'pass' | 'reason' | 'hold' | 'reportOnly'> & { message: string };
export type RunRow = Omit<RunRecord, 'gates'> & { gates: GateSummary[] };

export interface RunDetail {
  run: RunRecord;
  preview?: ChangeSet;
  apply?: ChangeSet;
  /** Drift already present on the stack (a refresh preview), kept by pull request previews. */
  drift?: ChangeSet;
  /** Changes of the preview left out of the apply because their resource's drift is not put back. */
  heldBack?: ChangeSet['changes'];
  /** Engine output lines and errors, as the engine reported them. */
  engineOutput?: string[];
}

export interface StackSummary {
  stack: string;
  lastRunId?: string;
  lastDecision?: string;
  lastRunAt?: string;
  /** The run that holds the stack now (set at start, cleared at the end). */
  currentRunId?: string;
  lastHolderId?: string;
  /**
   * The last run that left the stack equal to its desired state (applied, or found nothing to
   * change): its commit and desired-state hash. A push reconciles exactly the stacks whose new
   * hash differs from this one; a later commit must descend from this commit.
   */
  lastAppliedCommit?: string;
  /** The repository `lastAppliedCommit` is of (absent: the archetypes folder). */
  lastAppliedSource?: string;
  lastAppliedHash?: string;
  lastAppliedRunId?: string;
  lastAppliedAt?: string;
}

/**
 * Run ids sort newest first, across stacks too: without `now`, before every earlier id of this
 * process; with `now`, by that time, and before every earlier id of `keys` when given (see newestFirstKey).
 */
export function newRunId(now?: number, keys?: NewestFirstKeys): string {
  return newestFirstKey(now, keys);
}

function summarize(run: RunRecord): RunRow {
  return {
    ...run,
    error: run.error?.slice(0, 4000),
    gates: run.gates.map((g) => ({
      gate: g.gate, pass: g.pass, reason: g.reason, hold: g.hold, reportOnly: g.reportOnly,
      message: String(g.details?.message ?? '').slice(0, 500),
    })),
  };
}

export class RunStore {
  private constructor(private readonly table: Table<RunRow>, private readonly stacksTable: Table<StackSummary>, private readonly blobs: BlobStore) {}

  static async open(cfg: StorageConfig): Promise<RunStore> {
    const [table, stacks, blobs] = await Promise.all([
      Table.open<RunRow>('runs', cfg), Table.open<StackSummary>('runs', cfg), BlobStore.open('runs', cfg),
    ]);
    return new RunStore(table, stacks, blobs);
  }

  /** Writes (or rewrites) the run under its stack and under `~all`. */
  async save(run: RunRecord): Promise<void> {
    const row = summarize(run);
    await Promise.all([this.table.upsert(run.stack, run.id, row), this.table.upsert(ALL, run.id, row)]);
  }

  async get(id: string): Promise<RunRow | undefined> {
    const row = await this.table.get(ALL, id);
    return row ? strip(row) : undefined;
  }

  /** Newest first; `stack` narrows to one stack. */
  async list(opts: { stack?: string; limit?: number; cursor?: string } = {}): Promise<{ runs: RunRow[]; cursor?: string }> {
    const page = await this.table.page({ partitionKey: opts.stack ?? ALL, pageSize: Math.min(opts.limit ?? 50, 1000), continuationToken: opts.cursor });
    return { runs: page.items.map(strip), cursor: page.continuationToken };
  }

  async putDetail(detail: RunDetail): Promise<void> {
    await this.blobs.putJson(detail.run.id, detail);
  }

  /**
   * Marks a run that its holder never finished (the process died or lost its lease) as
   * `interrupted`. Returns the updated row, or undefined when it had finished after all.
   */
  async markInterrupted(id: string, why: string, now: Date): Promise<RunRow | undefined> {
    const cur = await this.table.get(ALL, id);
    if (!cur || cur.status !== 'running') return undefined;
    const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...row } = cur;
    const next: RunRow = {
      ...row, status: 'done', decision: 'interrupted', reasons: ['HOLDER_LOST'], error: why,
      timings: { ...row.timings, finishedAt: now.toISOString() },
    };
    // ETag-checked on the `~all` copy: if the holder finished meanwhile, its record wins.
    await this.table.replace(cur, next);
    await this.table.upsert(row.stack, id, next);
    return next;
  }

  getDetail(id: string): Promise<RunDetail | undefined> {
    return this.blobs.getJson<RunDetail>(id);
  }

  async stacks(): Promise<StackSummary[]> {
    const out: StackSummary[] = [];
    for await (const r of this.stacksTable.query({ partitionKey: STACKS })) out.push(stripStack(r));
    return out.sort((a, b) => a.stack.localeCompare(b.stack));
  }

  async stack(name: string): Promise<StackSummary | undefined> {
    const r = await this.stacksTable.get(STACKS, name);
    return r ? stripStack(r) : undefined;
  }

  /** Read-modify-write of a stack's summary (ETag-checked). */
  async updateStack(name: string, fn: (cur: StackSummary) => StackSummary): Promise<StackSummary> {
    const row = await this.stacksTable.update(STACKS, name, (cur) => fn(cur ? stripStack(cur) : { stack: name }));
    return stripStack(row);
  }
}

function strip<T extends object>(row: T & { partitionKey: string; rowKey: string; etag: string; timestamp?: string }): T {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...rest } = row;
  return rest as unknown as T;
}

function stripStack(row: StackSummary & { partitionKey: string; rowKey: string; etag: string }): StackSummary {
  return strip(row);
}

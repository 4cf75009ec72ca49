// GitOps's durable state in one table `gitops`:
// - `want/<stack>`: the commit a push asked the stack to be reconciled at. Written before the
//   delivery is marked done and removed only once a run has recorded its outcome, so a crash
//   in between loses nothing: the driver finishes it after the restart (and the timer looks too).
// - `event/<newest-first key>`: what GitOps did with each delivery (acted on, ignored and why,
//   refused), so an ignored delivery is recorded with its reason rather than silently dropped.
// - `prwant/<number>`: a pull request's latest event until its preview was posted (or dropped):
//   previews run after the delivery is done (a newer push must be able to cancel them), so a
//   crash meanwhile is finished by the next kick.
import type { StorageConfig } from '../platform/storage-config.ts';
import { NewestFirstKeys, Table, newestFirstKey, type Row } from '../platform/tables.ts';
import type { PullRequestEvent } from './types.ts';

export interface Want {
  stack: string;
  commit: string;
  /** Who pushed (host login): recorded on the run, and kept from approving it. */
  pusher: string;
  deliveryId: string;
  at: string;
}

export type GitOpsOutcome = 'queued' | 'no-change' | 'ignored' | 'refused' | 'previewed' | 'recorded';

export interface GitOpsEventRecord {
  deliveryId: string;
  kind: string;
  repo: string;
  ref?: string;
  commit?: string;
  outcome: GitOpsOutcome;
  /** A stable code: UNKNOWN_REPOSITORY, UNTRACKED_BRANCH, FORCE_PUSH, BRANCH_DELETED, COMPILE_FAILED... */
  reason?: string;
  message: string;
  stacks?: string[];
  at: string;
}

const WANT = 'want';
const EVENT = 'event';
const PR_WANT = 'prwant';

/** The latest pull request event not yet previewed to the end (kept as it came). */
export interface PrWant {
  number: number;
  event: string;
  at: string;
}

export class GitOpsStore {
  private readonly keys = new NewestFirstKeys();
  private constructor(
    private readonly wants: Table<Want>, private readonly events: Table<GitOpsEventRecord>, private readonly prWants: Table<PrWant>,
  ) {}

  static async open(cfg: StorageConfig, table = 'gitops'): Promise<GitOpsStore> {
    const [wants, events, prWants] = await Promise.all([Table.open<Want>(table, cfg), Table.open<GitOpsEventRecord>(table, cfg), Table.open<PrWant>(table, cfg)]);
    return new GitOpsStore(wants, events, prWants);
  }

  /** Keeps a pull request's latest event until its preview has finished (a crash re-runs it). */
  putPrWant(number: number, event: PullRequestEvent, now: Date): Promise<Row<PrWant>> {
    return this.prWants.upsert(PR_WANT, String(number), { number, event: JSON.stringify(event), at: now.toISOString() });
  }

  async listPrWants(): Promise<{ row: Row<PrWant>; event: PullRequestEvent }[]> {
    const out: { row: Row<PrWant>; event: PullRequestEvent }[] = [];
    for await (const r of this.prWants.query({ partitionKey: PR_WANT })) out.push({ row: r, event: JSON.parse(r.event) as PullRequestEvent });
    return out;
  }

  /** Removes the pull request's want if no newer event replaced it. */
  async donePrWant(row: Row<PrWant>): Promise<boolean> {
    return this.prWants.delete(PR_WANT, String(row.number), row.etag).catch((err) => {
      if ((err as Error).name === 'ConcurrencyError') return false;
      throw err;
    });
  }

  want(stack: string): Promise<Row<Want> | undefined> {
    return this.wants.get(WANT, stack);
  }

  async listWants(): Promise<Want[]> {
    const out: Want[] = [];
    for await (const r of this.wants.query({ partitionKey: WANT })) out.push(strip(r));
    return out;
  }

  /**
   * Sets the stack's want to `next` unless `keep(current)` says the current one stands (a later
   * commit already queued). Resolves to the want that stands.
   */
  async putWant(next: Want, keep: (cur: Want) => boolean | Promise<boolean>): Promise<Want> {
    const row = await this.wants.update(WANT, next.stack, async (cur) => (cur && (cur.commit === next.commit || (await keep(strip(cur)))) ? undefined : next));
    return row ? strip(row) : next;
  }

  /** Removes the want if it is still the one the run was for (a newer push replaced it otherwise). */
  async doneWant(row: Row<Want>): Promise<boolean> {
    return this.wants.delete(WANT, row.stack, row.etag).catch((err) => {
      if ((err as Error).name === 'ConcurrencyError') return false;
      throw err;
    });
  }

  async record(ev: Omit<GitOpsEventRecord, 'at'>, now: Date): Promise<GitOpsEventRecord> {
    const rec = { ...ev, at: now.toISOString(), message: ev.message.slice(0, 4000), stacks: ev.stacks?.slice(0, 200) };
    await this.events.upsert(EVENT, newestFirstKey(now.getTime(), this.keys), rec);
    return rec;
  }

  async recent(limit = 50): Promise<GitOpsEventRecord[]> {
    const page = await this.events.page({ partitionKey: EVENT, pageSize: Math.min(limit, 1000) });
    return page.items.map(strip);
  }
}

function strip<T extends object>(row: Row<T>): T {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...rest } = row as Row<T> & { timestamp?: string };
  return rest as unknown as T;
}

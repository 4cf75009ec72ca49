// Drives the stacks' wants (push.ts) to a recorded run: each stack is reconciled at the commit
// its want names, one run at a time per stack and `concurrency` stacks at once, and the want is
// removed only once the run has recorded its outcome (and only if no newer push replaced it, in
// which case the stack runs again at the newer commit). Kicked after each push, at start and by
// every reconcile tick, so a want left by a crash is finished after the restart.
import type { Logger } from '../platform/logger.ts';
import type { ReconcileRequest, ReconcileResult } from '../reconcile/loop.ts';
import type { GitOpsStore } from './store.ts';

export interface DriverPorts {
  store: GitOpsStore;
  reconcile(req: ReconcileRequest): Promise<ReconcileResult>;
  concurrency: number;
  logger: Logger;
}

export class GitOpsDriver {
  /** Stacks being driven by this instance, and the slots in use. */
  private readonly driving = new Map<string, Promise<void>>();
  private readonly waiting: Array<() => void> = [];
  private busy = 0;

  constructor(private readonly p: DriverPorts) {}

  /** Drives every stack with a want; resolves when each has been tried once. */
  async kick(): Promise<void> {
    const wants = await this.p.store.listWants();
    await Promise.all(wants.map((w) => this.drive(w.stack)));
  }

  /** One driver per stack in this instance; a second call joins the first. */
  drive(stack: string): Promise<void> {
    let d = this.driving.get(stack);
    if (!d) {
      d = this.loop(stack).finally(() => this.driving.delete(stack));
      this.driving.set(stack, d);
    }
    return d;
  }

  /** Resolves when nothing is being driven. */
  async idle(): Promise<void> {
    while (this.driving.size) await Promise.all([...this.driving.values()]);
  }

  private async loop(stack: string): Promise<void> {
    // A run held for approval is asked once more right away: the request exists only now, and
    // approvals already given elsewhere (the pull request's reviews) are collected into it then.
    let askedAgain = false;
    for (;;) {
      const row = await this.p.store.want(stack);
      if (!row) return;
      let res: ReconcileResult;
      await this.slot();
      try {
        res = await this.p.reconcile({ stack, trigger: 'push', commit: row.commit, requestedBy: row.pusher, leaseWaitMs: 5 * 60_000 });
      } catch (err) {
        if ((err as Error).name === 'UnknownStackError') {
          // The commit no longer has the stack: nothing to reconcile it to.
          this.p.logger.warn({ stack, commit: row.commit }, 'push: the stack is not in the desired state of its commit; want dropped');
          await this.p.store.doneWant(row);
          continue;
        }
        // Kept: the next kick (a push, a tick, a restart) tries again.
        this.p.logger.error({ stack, commit: row.commit, err: (err as Error).message }, 'push: reconcile failed; will try again');
        return;
      } finally {
        this.release();
      }
      // Another instance holds the stack: the want waits for the next kick.
      if (res.status === 'skipped') return;
      if (res.run.decision === 'pending-approval' && !askedAgain) {
        askedAgain = true;
        continue;
      }
      await this.p.store.doneWant(row);
    }
  }

  private async slot(): Promise<void> {
    if (this.busy < Math.max(1, this.p.concurrency)) { this.busy++; return; }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); else this.busy--;
  }
}

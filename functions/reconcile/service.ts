// What the API and the CLI do with the reconciler: runs and stacks to list, manual runs, the kill
// switch, approvals and the rate-limit override, each checked for role and written to the audit.
import type { Principal, Role } from '../platform/identity.ts';
import type { ReconcileDeps } from './deps.ts';
import type { Reconciler, ReconcileRequest, ReconcileResult } from './loop.ts';
import type { KillSwitchState } from './model.ts';
import { actorName } from './store/approvals.ts';
import type { RunDetail, RunRow, StackSummary } from './store/runs.ts';
import type { ApprovalRecord, RateOverride } from './gates/types.ts';

/** Who may do what (Admin may do everything). */
export const ROLES_FOR = {
  read: ['Developer', 'PlatformEngineer', 'TeamLead'],
  dryRun: ['Developer', 'PlatformEngineer', 'TeamLead'],
  reconcile: ['PlatformEngineer'],
  approve: ['PlatformEngineer', 'TeamLead'],
  killSwitch: [] as Role[],
  rateLimitOverride: [] as Role[],
} satisfies Record<string, Role[]>;

export type Action = keyof typeof ROLES_FOR;

export class ForbiddenError extends Error {
  readonly status = 403;
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

export class BadRequestError extends Error {
  readonly status = 400;
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

export function may(p: Principal, action: Action): boolean {
  return p.roles.includes('Admin') || (ROLES_FOR[action] as Role[]).some((r) => p.roles.includes(r));
}

export function authorize(p: Principal, action: Action): void {
  if (may(p, action)) return;
  const need = ['Admin', ...ROLES_FOR[action]].join(', ');
  throw new ForbiddenError(`${action} needs one of the roles ${need}; ${actorName(p)} has ${p.roles.join(', ') || 'none'}`);
}

export interface StackView extends StackSummary {
  managementGroupId?: string;
  resources?: number;
}

export class ReconcileService {
  private stackCache?: { at: number; stacks: { name: string; managementGroupId: string; resources: number }[] };

  constructor(readonly reconciler: Reconciler) {}

  get deps(): ReconcileDeps {
    return this.reconciler.deps;
  }

  get stores() {
    return this.deps.stores;
  }

  /** Stacks of the desired state (compiled at most once a minute) with their last run. */
  async stacks(): Promise<StackView[]> {
    if (!this.stackCache || Date.now() - this.stackCache.at > 60_000) {
      const state = await this.deps.compile();
      this.stackCache = { at: Date.now(), stacks: state.stacks.map((s) => ({ name: s.name, managementGroupId: s.managementGroupId, resources: s.resourceIds.length })) };
    }
    const summaries = new Map((await this.stores.runs.stacks()).map((s) => [s.stack, s]));
    const out: StackView[] = this.stackCache.stacks.map((s) => ({ ...(summaries.get(s.name) ?? { stack: s.name }), managementGroupId: s.managementGroupId, resources: s.resources }));
    // Stacks with runs that the desired state no longer has are still listed (their history stays).
    for (const [name, s] of summaries) if (!out.some((o) => o.stack === name)) out.push(s);
    return out;
  }

  runs(opts: { stack?: string; limit?: number; cursor?: string }): Promise<{ runs: RunRow[]; cursor?: string }> {
    return this.stores.runs.list(opts);
  }

  async run(id: string): Promise<{ run: RunRow; detail?: RunDetail } | undefined> {
    const run = await this.stores.runs.get(id);
    if (!run) return undefined;
    return { run, detail: await this.stores.runs.getDetail(id) };
  }

  /** One reconcile now, for a person (role-checked) or for a trigger. */
  async reconcile(principal: Principal | undefined, req: Omit<ReconcileRequest, 'requestedBy'>): Promise<ReconcileResult> {
    if (principal) authorize(principal, req.dryRun ? 'dryRun' : 'reconcile');
    return this.reconciler.reconcile({ ...req, requestedBy: principal ? actorName(principal) : undefined });
  }

  killSwitch(): Promise<KillSwitchState> {
    return this.stores.settings.killSwitch();
  }

  async setKillSwitch(principal: Principal, on: boolean, reason: string): Promise<KillSwitchState> {
    authorize(principal, 'killSwitch');
    if (!reason?.trim()) throw new BadRequestError('reason', 'turning the kill switch on or off needs a reason');
    const by = actorName(principal);
    await this.stores.settings.setKillSwitch(on, by, reason.trim(), this.deps.now());
    await this.stores.audit.record({ actor: by, action: on ? 'killswitch-on' : 'killswitch-off', target: 'tenant', why: reason.trim() });
    return this.killSwitch();
  }

  approvals(status?: ApprovalRecord['status']): Promise<ApprovalRecord[]> {
    return this.stores.approvals.list({ status, now: this.deps.now() });
  }

  /**
   * Records an approval. When it completes the request, the stack is reconciled again
   * (trigger `approval`): the new preview must match the approved one exactly, or the
   * approval is stale and a new request is opened.
   */
  async approve(principal: Principal, runId: string, opts: { reconcile?: 'wait' | 'queue' | 'none' } = {}): Promise<{ approval: ApprovalRecord; result?: ReconcileResult; queued?: boolean }> {
    authorize(principal, 'approve');
    const approval = await this.stores.approvals.vote(runId, principal, 'api', this.deps.now());
    await this.stores.audit.record({
      actor: actorName(principal), action: 'approve', target: approval.stack, runId,
      why: approval.status === 'approved' ? 'approval complete' : 'approval recorded; more approvers needed',
      details: { votes: approval.votes.length, requirements: approval.requirements, changeSetHash: approval.changeSetHash },
    });
    const mode = opts.reconcile ?? 'queue';
    if (approval.status !== 'approved' || mode === 'none') return { approval };
    const req = { stack: approval.stack, trigger: 'approval' as const, commit: approval.commit, author: approval.author, requestedBy: actorName(principal), leaseWaitMs: 10 * 60_000 };
    if (mode === 'wait') return { approval, result: await this.reconciler.reconcile(req) };
    void this.reconciler.reconcile(req).catch((err) => this.deps.logger.error({ stack: approval.stack, err: (err as Error).message }, 'reconcile after approval failed'));
    return { approval, queued: true };
  }

  async reject(principal: Principal, runId: string, reason: string): Promise<ApprovalRecord> {
    authorize(principal, 'approve');
    if (!reason?.trim()) throw new BadRequestError('reason', 'a rejection needs a reason');
    const rec = await this.stores.approvals.reject(runId, principal, reason.trim());
    await this.stores.audit.record({ actor: actorName(principal), action: 'reject', target: rec.stack, runId, why: reason.trim() });
    return rec;
  }

  async rateLimits() {
    return this.stores.rateLimits.snapshot();
  }

  async overrideRateLimits(principal: Principal, minutes: number, reason: string): Promise<RateOverride> {
    authorize(principal, 'rateLimitOverride');
    const g = await this.deps.guardrails();
    const ov = await this.stores.rateLimits.setOverride({ minutes, reason, by: actorName(principal) }, g.rateLimits, this.deps.now());
    await this.stores.audit.record({ actor: ov.by, action: 'ratelimit-override', target: 'tenant', why: ov.reason, details: { until: ov.until, minutes } });
    return ov;
  }

  async clearRateLimitOverride(principal: Principal): Promise<boolean> {
    authorize(principal, 'rateLimitOverride');
    const cleared = await this.stores.rateLimits.clearOverride();
    if (cleared) await this.stores.audit.record({ actor: actorName(principal), action: 'ratelimit-override-cleared', target: 'tenant' });
    return cleared;
  }
}

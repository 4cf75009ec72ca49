// Approval requests in the `approvals` table (partition: stack, row: the id of the run that
// asked), each pinned to the ChangeSet hash, desired-state hash and live fingerprint of its
// preview. Votes come from approval sources (the API now; GitHub environments, pull-request
// reviews and Azure DevOps approvals later) through the ApprovalSource port.
import type { Principal } from '../../platform/identity.ts';
import type { StorageConfig } from '../../platform/storage-config.ts';
import { Table, odata, type Row } from '../../platform/tables.ts';
import { excludedApprovers, identities, isExcluded, requirementsMet } from '../gates/approvals.ts';
import type { ApprovalRecord, ApprovalRequirement, ApprovalVote } from '../gates/types.ts';

/** Where votes come from. The API source's votes are written to the record by `vote()`. */
export interface ApprovalSource {
  readonly name: string;
  /** Votes this source holds for the request, e.g. approvals of a GitHub environment deployment. */
  votes(request: ApprovalRecord): Promise<ApprovalVote[]>;
}

/** The source name of pull request reviews (functions/gitops/reviews.ts), which guardrails may turn off. */
export const REVIEW_SOURCE = 'pull-request-review';

/** The API (and CLI) source: votes are recorded straight into the request by `vote()`. */
export const apiApprovalSource: ApprovalSource = { name: 'api', votes: async (r) => r.votes.filter((v) => v.source === 'api') };

export class ApprovalError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 409, message: string) {
    super(message);
    this.name = 'ApprovalError';
  }
}

/** The name a principal is recorded under; matches how commit authors are written (email). */
export function actorName(p: Pick<Principal, 'id' | 'name' | 'email'>): string {
  return p.email ?? p.name ?? p.id;
}

/** Why the principal may not approve the request, or undefined. */
function exclusion(p: Pick<Principal, 'id' | 'name' | 'email'>, rec: ApprovalRecord): string | undefined {
  const who = [p.id, p.name, p.email];
  if (isExcluded(who, identities(rec.requestedBy))) return `${actorName(p)} requested run '${rec.runId}' and cannot approve it`;
  if (isExcluded(who, excludedApprovers(rec))) return `${actorName(p)} is the author of commit ${rec.commit ?? ''}`.trim() + ' or asked for a run of it, and cannot approve it';
  return undefined;
}

export class ApprovalStore {
  private constructor(private readonly table: Table<Omit<ApprovalRecord, 'id' | 'stack' | 'runId'>>) {}

  static async open(cfg: StorageConfig): Promise<ApprovalStore> {
    return new ApprovalStore(await Table.open('approvals', cfg));
  }

  private toRecord(r: Row<Omit<ApprovalRecord, 'id' | 'stack' | 'runId'>>): ApprovalRecord {
    const { partitionKey, rowKey, etag: _e, timestamp: _t, ...rest } = r;
    return { ...rest, id: rowKey, runId: rowKey, stack: partitionKey, votes: rest.votes ?? [], requirements: rest.requirements ?? [] };
  }

  /** Whether an open request is past its expiry at `now`. */
  private due(rec: ApprovalRecord, now: Date): boolean {
    return (rec.status === 'pending' || rec.status === 'approved') && Date.parse(rec.expiresAt) <= now.getTime();
  }

  /** Marks an open request past its expiry as `expired` (once; a concurrent change wins). */
  private async expireIfDue(rec: ApprovalRecord, now: Date): Promise<ApprovalRecord> {
    if (!this.due(rec, now)) return rec;
    const row = await this.table.update(rec.stack, rec.id, (cur) => {
      if (!cur) return undefined;
      const c = this.toRecord(cur);
      if (!this.due(c, now)) return undefined;
      const { id: _i, stack: _s, runId: _r, ...next } = { ...c, status: 'expired' as const };
      return next;
    });
    return row ? this.toRecord(row) : ((await this.getRaw(rec.id)) ?? rec);
  }

  private async getRaw(id: string): Promise<ApprovalRecord | undefined> {
    for await (const r of this.table.query({ filter: odata`RowKey eq ${id}` })) return this.toRecord(r);
    return undefined;
  }

  /** The newest request of a stack (run ids sort newest first); expired ones read as `expired`. */
  async latest(stack: string, now = new Date()): Promise<ApprovalRecord | undefined> {
    const page = await this.table.page({ partitionKey: stack, pageSize: 1 });
    return page.items[0] ? this.expireIfDue(this.toRecord(page.items[0]), now) : undefined;
  }

  async get(id: string, now = new Date()): Promise<ApprovalRecord | undefined> {
    const rec = await this.getRaw(id);
    return rec ? this.expireIfDue(rec, now) : undefined;
  }

  /**
   * Requests, oldest first. Open requests past their expiry are marked `expired` first, so
   * `status: 'pending'` never lists them and `status: 'expired'` does.
   */
  async list(opts: { status?: ApprovalRecord['status']; stack?: string; now?: Date } = {}): Promise<ApprovalRecord[]> {
    const now = opts.now ?? new Date();
    const open: ApprovalRecord[] = [];
    for await (const r of this.table.query({ partitionKey: opts.stack, filter: odata`status eq ${'pending'} or status eq ${'approved'}` })) open.push(this.toRecord(r));
    await Promise.all(open.filter((r) => this.due(r, now)).map((r) => this.expireIfDue(r, now)));
    const out: ApprovalRecord[] = [];
    const filter = opts.status ? odata`status eq ${opts.status}` : undefined;
    for await (const r of this.table.query({ partitionKey: opts.stack, filter })) out.push(this.toRecord(r));
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Opens a request for a held run; earlier open requests of the stack are superseded. */
  async request(p: {
    stack: string; runId: string; changeSetHash: string; desiredStateHash: string; liveFingerprint: string;
    requirements: ApprovalRequirement[]; commit?: string; author?: string; requestedBy?: string;
    /** GitOps: the stack's last applied commit when the run asked (what is new since it needs approval). */
    appliedCommit?: string;
    /** Identities that may not approve besides the requester (the commit's authors). */
    excluded?: string[]; now: Date; expiresAfterMinutes: number;
    /** Why it asks for more than the rules do (e.g. `AUTHOR_UNKNOWN`). */
    reasons?: string[];
  }): Promise<ApprovalRecord> {
    for (const open of await this.list({ stack: p.stack })) {
      if (open.status === 'pending' || open.status === 'approved') await this.setStatus(open, 'superseded');
    }
    const value = {
      status: 'pending' as const, changeSetHash: p.changeSetHash, desiredStateHash: p.desiredStateHash,
      liveFingerprint: p.liveFingerprint, requirements: p.requirements, commit: p.commit, appliedCommit: p.appliedCommit, author: p.author,
      requestedBy: p.requestedBy, excluded: excludedApprovers({ excluded: p.excluded ?? identities(p.author), requestedBy: p.requestedBy }),
      ...(p.reasons?.length ? { reasons: p.reasons } : {}),
      createdAt: p.now.toISOString(), expiresAt: new Date(p.now.getTime() + p.expiresAfterMinutes * 60_000).toISOString(), votes: [],
    };
    return this.toRecord(await this.table.insert(p.stack, p.runId, value));
  }

  private async mutate(id: string, fn: (cur: ApprovalRecord) => ApprovalRecord): Promise<ApprovalRecord> {
    const found = await this.getRaw(id);
    if (!found) throw new ApprovalError(404, `no approval request for run '${id}'`);
    const row = await this.table.update(found.stack, id, (cur) => {
      if (!cur) throw new ApprovalError(404, `no approval request for run '${id}'`);
      const { id: _i, stack: _s, runId: _r, ...next } = fn(this.toRecord(cur));
      return next;
    });
    return this.toRecord(row);
  }

  private setStatus(rec: ApprovalRecord, status: ApprovalRecord['status']): Promise<ApprovalRecord> {
    return this.mutate(rec.id, (cur) => ({ ...cur, status }));
  }

  /**
   * Records one approver's vote. Refused for the commit's author and the run's requester, for someone outside every
   * required group, twice by one person, and on requests that are no longer pending.
   */
  async vote(id: string, principal: Principal, source = 'api', now = new Date()): Promise<ApprovalRecord> {
    return this.mutate(id, (cur) => {
      if (cur.status !== 'pending') throw new ApprovalError(409, `run '${id}' is ${cur.status}, not pending approval`);
      if (Date.parse(cur.expiresAt) <= now.getTime()) throw new ApprovalError(409, `the approval request of run '${id}' expired at ${cur.expiresAt}`);
      const excluded = exclusion(principal, cur);
      if (excluded) throw new ApprovalError(403, excluded);
      const groups = cur.requirements.map((r) => r.group).filter((g) => principal.groups.includes(g));
      if (groups.length === 0) {
        throw new ApprovalError(403, `approving run '${id}' needs membership of ${[...new Set(cur.requirements.map((r) => r.group))].join(' or ')}`);
      }
      const by = actorName(principal);
      if (cur.votes.some((v) => v.by.toLowerCase() === by.toLowerCase())) throw new ApprovalError(409, `${by} already approved run '${id}'`);
      const votes = [...cur.votes, { by, name: principal.name, groups, at: now.toISOString(), source }];
      const next = { ...cur, votes };
      return { ...next, status: requirementsMet(next) ? 'approved' : 'pending' };
    });
  }

  async reject(id: string, principal: Principal, reason: string): Promise<ApprovalRecord> {
    return this.mutate(id, (cur) => {
      if (cur.status !== 'pending' && cur.status !== 'approved') throw new ApprovalError(409, `run '${id}' is ${cur.status}; only pending or approved requests can be rejected`);
      const inGroup = cur.requirements.some((r) => principal.groups.includes(r.group));
      if (!inGroup) throw new ApprovalError(403, `rejecting run '${id}' needs membership of ${[...new Set(cur.requirements.map((r) => r.group))].join(' or ')}`);
      return { ...cur, status: 'rejected', rejectedBy: actorName(principal), reason };
    });
  }

  /** Merges votes from external sources into a pending request (the loop calls this). */
  async collect(rec: ApprovalRecord, sources: ApprovalSource[]): Promise<ApprovalRecord> {
    if (rec.status !== 'pending') return rec;
    const external = (await Promise.all(sources.filter((s) => s.name !== 'api').map((s) => s.votes(rec)))).flat();
    if (external.length === 0) return rec;
    return this.mutate(rec.id, (cur) => {
      const seen = new Set(cur.votes.map((v) => `${v.source}:${v.by.toLowerCase()}`));
      const votes = [...cur.votes, ...external.filter((v) => !seen.has(`${v.source}:${v.by.toLowerCase()}`))];
      const next = { ...cur, votes };
      return { ...next, status: cur.status === 'pending' && requirementsMet(next) ? 'approved' : cur.status };
    });
  }

  /**
   * Adds identities that may not approve an open request (the requester and commit authors of a
   * later run that reuses it). Votes they already gave stop counting; a request they had
   * completed goes back to pending.
   */
  async exclude(id: string, who: string[]): Promise<ApprovalRecord> {
    const add = identities(...who);
    return this.mutate(id, (cur) => {
      const excluded = [...new Set([...excludedApprovers(cur), ...add])];
      const next = { ...cur, excluded };
      const open = cur.status === 'pending' || cur.status === 'approved';
      return open ? { ...next, status: requirementsMet(next) ? 'approved' : 'pending' } : next;
    });
  }

  /**
   * Marks the approval used by an apply. Only an `approved` request becomes `applied` (checked
   * inside the ETag-conditional update): a rejection that landed meanwhile stands. (The loop
   * read it again right before the apply; expiry during the apply does not undo that.)
   */
  markApplied(rec: ApprovalRecord): Promise<ApprovalRecord> {
    return this.mutate(rec.id, (cur) => {
      if (cur.status !== 'approved') throw new ApprovalError(409, `run '${rec.id}' is ${cur.status}, not approved; not marked applied`);
      return { ...cur, status: 'applied' };
    });
  }
}

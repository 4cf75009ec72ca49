// The sandbox's tenant: every ARM resource it holds, the management group hierarchy, the log of
// resource changes and the policy compliance states. Optionally persisted to a JSON file.
import { readFileSync, writeFileSync, renameSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { key, idParts, MG_TYPE, SUB_TYPE, RG_TYPE, sameType, type ArmRef } from './arm-ids.ts';
import { diffSnapshots, type PropertyChange } from './diff.ts';

export type Body = Record<string, any>;

export interface StoredResource {
  id: string;
  type: string;
  name: string;
  /** Scope or parent resource id ('' for the tenant). */
  parent: string;
  body: Body;
  builtIn?: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Actor {
  changedBy: string;
  changedByType: 'User' | 'Application';
  clientType: string;
  /** ARM's correlation id of the request (x-ms-correlation-request-id); a new one when absent. */
  correlationId?: string;
}

export interface ResourceChange {
  changeId: string;
  resourceId: string;
  resourceType: string;
  changeType: 'Create' | 'Update' | 'Delete';
  timestamp: string;
  changedBy: string;
  changedByType: string;
  clientType: string;
  operation: string;
  /** Absent only in data files written before the sandbox recorded it. */
  correlationId?: string;
  before?: Body;
  after?: Body;
  changes: Record<string, PropertyChange>;
}

export type ComplianceState = 'Compliant' | 'NonCompliant' | 'Exempt' | 'Unknown' | 'Conflict' | 'NotStarted';

export interface ComplianceRecord {
  resourceId: string;
  policyAssignmentId: string;
  policyDefinitionId: string;
  policyDefinitionReferenceId?: string;
  policySetDefinitionId?: string;
  complianceState: ComplianceState;
  timestamp: string;
}

/** An Activity Log event that is not a resource write (the Policy category: audit, deny, remediation). */
export interface ActivityEvent {
  eventId: string;
  category: 'Administrative' | 'Policy';
  operation: string;
  resourceId: string;
  caller: string;
  correlationId: string;
  status: string;
  subStatus?: string;
  at: string;
  properties: Body;
}

interface Persisted {
  version: 1;
  tenantId: string;
  token?: string;
  resources: StoredResource[];
  changes: ResourceChange[];
  compliance: ComplianceRecord[];
  activity?: ActivityEvent[];
}

export class Tenant {
  readonly resources = new Map<string, StoredResource>();
  changes: ResourceChange[] = [];
  compliance: ComplianceRecord[] = [];
  activity: ActivityEvent[] = [];
  tenantId: string;
  token?: string;
  private saveTimer?: NodeJS.Timeout;

  constructor(readonly dataFile?: string) {
    this.tenantId = randomUUID();
    if (dataFile && existsSync(dataFile)) {
      const data = JSON.parse(readFileSync(dataFile, 'utf8')) as Persisted;
      this.tenantId = data.tenantId;
      this.token = data.token;
      for (const r of data.resources) this.resources.set(key(r.id), r);
      this.changes = data.changes ?? [];
      this.compliance = data.compliance ?? [];
      this.activity = data.activity ?? [];
    }
    const root = this.rootGroupId();
    if (!this.resources.has(key(root))) {
      const now = new Date().toISOString();
      this.resources.set(key(root), {
        id: root, type: MG_TYPE, name: this.tenantId, parent: '',
        body: { properties: { displayName: 'Tenant Root Group', details: { parent: null } } },
        createdAt: now, updatedAt: now,
      });
    }
  }

  rootGroupId(): string {
    return `/providers/${MG_TYPE}/${this.tenantId}`;
  }

  get(id: string): StoredResource | undefined {
    return this.resources.get(key(id));
  }

  /** Resources of one type directly under a scope (case-insensitive). */
  list(scope: string, type: string): StoredResource[] {
    const s = key(scope);
    return [...this.resources.values()].filter((r) => key(r.parent) === s && sameType(r.type, type));
  }

  /** Everything whose id lies under the given id (not the id itself). */
  descendants(id: string): StoredResource[] {
    const prefix = key(id) + '/';
    return [...this.resources.values()].filter((r) => key(r.id).startsWith(prefix));
  }

  /** Management group that holds a subscription. */
  subscriptionGroup(subscriptionId: string): string {
    const sub = this.get(`/subscriptions/${subscriptionId}`);
    return sub?.body.managementGroupId ?? this.rootGroupId();
  }

  /** Parent management group id of a group, undefined for the root. */
  groupParent(mgId: string): string | undefined {
    const mg = this.get(mgId);
    return mg?.body.properties?.details?.parent?.id ?? undefined;
  }

  /** The management groups above a resource, nearest first (the group itself when it is one). */
  groupChain(id: string): string[] {
    const { subscriptionId, managementGroup } = idParts(id);
    let mg: string | undefined = subscriptionId
      ? this.subscriptionGroup(subscriptionId)
      : managementGroup
        ? `/providers/${MG_TYPE}/${managementGroup}`
        : undefined;
    const chain: string[] = [];
    const seen = new Set<string>();
    while (mg && this.get(mg) && !seen.has(key(mg))) {
      const stored = this.get(mg)!;
      chain.push(stored.id);
      seen.add(key(mg));
      mg = this.groupParent(mg);
    }
    return chain;
  }

  /** True when `id` is at or below `scope` in the tenant (following the MG hierarchy). */
  isWithin(id: string, scope: string): boolean {
    const k = key(id);
    const s = key(scope);
    if (s === '' || k === s || k.startsWith(s + '/')) return true;
    if (/^\/providers\/microsoft\.management\/managementgroups\/[^/]+$/.test(s)) {
      return this.groupChain(id).some((g) => key(g) === s);
    }
    return false;
  }

  childGroups(mgId: string): StoredResource[] {
    return [...this.resources.values()].filter(
      (r) => sameType(r.type, MG_TYPE) && key(r.body.properties?.details?.parent?.id ?? '') === key(mgId),
    );
  }

  childSubscriptions(mgId: string): StoredResource[] {
    return [...this.resources.values()].filter(
      (r) => sameType(r.type, SUB_TYPE) && key(r.body.managementGroupId ?? this.rootGroupId()) === key(mgId),
    );
  }

  /** Stores a resource and records the change. Returns whether it was created. */
  write(ref: ArmRef, body: Body, actor: Actor, operation: string): { created: boolean; resource: StoredResource } {
    const existing = this.get(ref.id);
    const now = new Date().toISOString();
    const resource: StoredResource = existing
      ? { ...existing, body, updatedAt: now }
      : { id: ref.id, type: ref.type, name: ref.name, parent: ref.parent, body, createdAt: now, updatedAt: now };
    this.resources.set(key(ref.id), resource);
    this.record(resource, existing ? 'Update' : 'Create', existing?.body, body, actor, operation);
    this.scheduleSave();
    return { created: !existing, resource };
  }

  /** Removes a resource and everything under it, recording a change for each. */
  remove(id: string, actor: Actor, operation: string): boolean {
    const existing = this.get(id);
    if (!existing) return false;
    for (const d of this.descendants(id).sort((a, b) => b.id.length - a.id.length)) {
      this.resources.delete(key(d.id));
      this.record(d, 'Delete', d.body, undefined, actor, operation);
    }
    this.resources.delete(key(id));
    this.record(existing, 'Delete', existing.body, undefined, actor, operation);
    this.compliance = this.compliance.filter((c) => !this.isUnder(c.resourceId, id) && !this.isUnder(c.policyAssignmentId, id));
    this.scheduleSave();
    return true;
  }

  private isUnder(a: string, id: string) {
    const k = key(a);
    const s = key(id);
    return k === s || k.startsWith(s + '/');
  }

  private record(r: StoredResource, changeType: ResourceChange['changeType'], before: Body | undefined, after: Body | undefined, actor: Actor, operation: string) {
    if (r.builtIn) return;
    const snap = (b?: Body) => (b ? { id: r.id, name: r.name, type: r.type, ...publicBody(b) } : undefined);
    const change: ResourceChange = {
      changeId: randomUUID(),
      resourceId: r.id,
      resourceType: r.type,
      changeType,
      timestamp: nextTimestamp(this.changes),
      changedBy: actor.changedBy,
      changedByType: actor.changedByType,
      clientType: actor.clientType,
      operation,
      correlationId: actor.correlationId ?? randomUUID(),
      before: snap(before),
      after: snap(after),
      changes: changeType === 'Update' ? diffSnapshots(publicBody(before ?? {}), publicBody(after ?? {})) : {},
    };
    this.changes.push(change);
  }

  setCompliance(records: ComplianceRecord[]) {
    for (const rec of records) {
      this.compliance = this.compliance.filter(
        (c) =>
          !(key(c.resourceId) === key(rec.resourceId) && key(c.policyAssignmentId) === key(rec.policyAssignmentId) &&
            (c.policyDefinitionReferenceId ?? '') === (rec.policyDefinitionReferenceId ?? '')),
      );
      this.compliance.push(rec);
    }
    this.scheduleSave();
  }

  clearCompliance() {
    this.compliance = [];
    this.scheduleSave();
  }

  addActivity(events: ActivityEvent[]) {
    this.activity.push(...events);
    this.scheduleSave();
  }

  private scheduleSave() {
    if (!this.dataFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.save(), 50);
  }

  /** Writes the data file now (atomically: temp file, then rename). */
  save() {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.dataFile) return;
    const data: Persisted = {
      version: 1,
      tenantId: this.tenantId,
      token: this.token,
      resources: [...this.resources.values()].filter((r) => !r.builtIn),
      changes: this.changes,
      compliance: this.compliance,
      activity: this.activity,
    };
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const tmp = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, this.dataFile);
  }
}

/** The stored body without the sandbox's own bookkeeping fields (names starting with '_'). */
export function publicBody(b: Body): Body {
  const out: Body = {};
  for (const [k, v] of Object.entries(b)) if (!k.startsWith('_')) out[k] = v;
  return out;
}

/** Change timestamps strictly increase, so "changes since T" never loses or repeats one. */
function nextTimestamp(changes: ResourceChange[]): string {
  let t = Date.now();
  const last = changes.length ? Date.parse(changes[changes.length - 1].timestamp) : 0;
  if (t <= last) t = last + 1;
  return new Date(t).toISOString();
}

export { RG_TYPE, SUB_TYPE, MG_TYPE };

// The side door: changes made behind Nexus's back (a person in the portal, another tool), and
// compliance states as Azure Policy would report them. Every change is recorded with who made it.
import { z } from 'zod';
import { randomBytes, randomUUID } from 'node:crypto';
import { ArmError, badRequest } from './errors.ts';
import { parseArmPath, sameType, SUB_TYPE, MG_TYPE } from './arm-ids.ts';
import { deepMerge } from './diff.ts';
import { prepareWrite, present, checkDelete, TYPES } from './rules.ts';
import { publicBody, type Actor, type Body, type ComplianceRecord, type ResourceChange, type Tenant } from './tenant.ts';
import { notFoundFor } from './arm-routes.ts';
import { Remediations } from './remediations.ts';
import { remediate, type RemediateInput } from './remediate.ts';
import { Deployments, startDeployment, finishDeployment, FINAL_STATES } from './deployments.ts';

const COMPLIANCE_STATES = ['Compliant', 'NonCompliant', 'Exempt', 'Unknown', 'Conflict', 'NotStarted'] as const;

export const complianceInput = z.object({
  resourceId: z.string().startsWith('/'),
  policyAssignmentId: z.string().startsWith('/'),
  complianceState: z.enum(COMPLIANCE_STATES),
  policyDefinitionId: z.string().optional(),
  policyDefinitionReferenceId: z.string().optional(),
  timestamp: z.string().datetime().optional(),
});
export type ComplianceInput = z.infer<typeof complianceInput>;

export const DEFAULT_PRINCIPAL = 'nexus@sandbox';

/** A person's change; every side-door call is one request, so one correlation id for all it records. */
function sideDoorActor(changedBy = 'someone@sandbox', correlationId: string = randomUUID()): Actor {
  return { changedBy, changedByType: 'User', clientType: 'Sandbox side door', correlationId };
}

export type PrincipalType = 'User' | 'Application';

/** Programmatic access to the sandbox tenant, for tests in the same process and for the HTTP side door. */
export class SandboxState {
  /** Bearer token -> principal that ARM writes are recorded under. */
  readonly tokens = new Map<string, string>();
  /** Policy remediations and ARM deployments (not ARM resources: kept beside the tenant's data file). */
  readonly remediations: Remediations;
  readonly deployments: Deployments;
  /** Principal -> its kind, as ARM records it in changedByType (Application unless issued as a User). */
  readonly principalTypes = new Map<string, PrincipalType>();

  constructor(readonly tenant: Tenant) {
    this.remediations = new Remediations(tenant.dataFile);
    this.deployments = new Deployments(tenant.dataFile);
  }

  /** Writes a resource as a Modify/DeployIfNotExists assignment's identity and records the remediation. */
  remediate(input: RemediateInput) {
    return remediate(this.tenant, this.remediations, this.deployments, input);
  }

  /** Starts a deployment (Running, or Accepted) at a management group, subscription or resource group. */
  startDeployment(input: { scope: string; name: string; state?: 'Running' | 'Accepted'; correlationId?: string }, startedBy = 'someone@sandbox') {
    return startDeployment(this.tenant, this.deployments, input, startedBy);
  }

  finishDeployment(input: { scope: string; name: string; state?: (typeof FINAL_STATES)[number] }) {
    return finishDeployment(this.tenant, this.deployments, input);
  }

  issueToken(principal = DEFAULT_PRINCIPAL, type: PrincipalType = 'Application'): string {
    const token = `sbx_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, principal);
    this.principalTypes.set(principal, type);
    return token;
  }

  get(id: string): Body | undefined {
    const r = this.tenant.get(id);
    return r ? present(this.tenant, r) : undefined;
  }

  /** Creates or replaces a resource (validated like an ARM PUT). */
  put(id: string, body: Body, changedBy?: string, correlationId?: string): Body {
    const ref = itemRef(id);
    const existing = this.tenant.get(id);
    const stored = prepareWrite(this.tenant, ref, body, existing);
    const { resource } = this.tenant.write(existing ? { ...ref, id: existing.id } : ref, stored, sideDoorActor(changedBy, correlationId), `${ref.type}/write`);
    return present(this.tenant, resource);
  }

  /** Merges `patch` into the resource's body (properties, tags, identity...), as drift. */
  update(id: string, patch: Body, changedBy?: string, correlationId?: string): Body {
    const ref = itemRef(id);
    const existing = this.tenant.get(id);
    if (!existing) throw notFoundFor(ref);
    const merged = deepMerge(publicBody(existing.body), patch) as Body;
    const stored = prepareWrite(this.tenant, { ...ref, id: existing.id }, merged, existing);
    const { resource } = this.tenant.write({ ...ref, id: existing.id }, stored, sideDoorActor(changedBy, correlationId), `${ref.type}/write`);
    return present(this.tenant, resource);
  }

  delete(id: string, changedBy?: string, correlationId?: string): boolean {
    const existing = this.tenant.get(id);
    if (!existing) return false;
    checkDelete(this.tenant, existing);
    return this.tenant.remove(existing.id, sideDoorActor(changedBy, correlationId), `${existing.type}/delete`);
  }

  /** Creates a subscription (Azure creates them outside ARM's resource API), optionally under a group. */
  addSubscription(s: { subscriptionId: string; displayName?: string; managementGroupId?: string }, changedBy?: string): Body {
    const id = `/subscriptions/${s.subscriptionId}`;
    let mgId = this.tenant.rootGroupId();
    if (s.managementGroupId) {
      const mg = this.tenant.get(s.managementGroupId.startsWith('/') ? s.managementGroupId : `/providers/${MG_TYPE}/${s.managementGroupId}`);
      if (!mg || !sameType(mg.type, MG_TYPE)) throw new ArmError(404, 'ManagementGroupNotFound', `The management group '${s.managementGroupId}' could not be found.`);
      mgId = mg.id;
    }
    const existing = this.tenant.get(id);
    const body = { displayName: s.displayName ?? existing?.body.displayName ?? s.subscriptionId, state: 'Enabled', managementGroupId: mgId };
    const { resource } = this.tenant.write(
      { id: existing?.id ?? id, type: SUB_TYPE, name: s.subscriptionId, parent: '' }, body, sideDoorActor(changedBy), 'Microsoft.Resources/subscriptions/write');
    return present(this.tenant, resource);
  }

  /** Sets compliance states; the policy definition is taken from the assignment when not given. */
  setCompliance(states: ComplianceInput[]): ComplianceRecord[] {
    const records = states.map((raw, i) => {
      const s = parseOrThrow(complianceInput, raw, `states[${i}]`);
      const pa = this.tenant.get(s.policyAssignmentId);
      if (!pa || !sameType(pa.type, TYPES.PA)) {
        throw new ArmError(404, 'PolicyAssignmentNotFound', `states[${i}].policyAssignmentId '${s.policyAssignmentId}' is not a policy assignment in the sandbox.`);
      }
      const assigned: string = pa.body.properties.policyDefinitionId;
      const def = this.tenant.get(assigned);
      const isSet = def && sameType(def.type, TYPES.PSD);
      let policyDefinitionId = s.policyDefinitionId ?? assigned;
      if (isSet && !s.policyDefinitionId && s.policyDefinitionReferenceId) {
        const member = (def.body.properties.policyDefinitions as Body[]).find(
          (d) => String(d.policyDefinitionReferenceId ?? '').toLowerCase() === s.policyDefinitionReferenceId!.toLowerCase());
        if (!member) throw badRequest('InvalidRequestContent', `states[${i}].policyDefinitionReferenceId '${s.policyDefinitionReferenceId}' is not in '${def.name}'.`);
        policyDefinitionId = member.policyDefinitionId;
      }
      return {
        resourceId: s.resourceId,
        policyAssignmentId: pa.id,
        policyDefinitionId,
        policyDefinitionReferenceId: s.policyDefinitionReferenceId,
        policySetDefinitionId: isSet ? def.id : undefined,
        complianceState: s.complianceState,
        timestamp: s.timestamp ?? new Date().toISOString(),
      } satisfies ComplianceRecord;
    });
    this.tenant.setCompliance(records);
    return records;
  }

  clearCompliance() {
    this.tenant.clearCompliance();
  }

  changes(since?: string): ResourceChange[] {
    const t = since ? Date.parse(since) : -Infinity;
    return this.tenant.changes.filter((c) => Date.parse(c.timestamp) > t);
  }
}

function itemRef(id: string) {
  const p = parseArmPath(id);
  if (p.kind !== 'item') throw badRequest('InvalidResourceId', `'${id}' is not a resource id.`);
  return p.ref;
}

function parseOrThrow<T>(schema: z.ZodType<T>, v: unknown, where: string): T {
  const r = schema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw badRequest('InvalidRequestContent', `${where}.${issue.path.join('.')}: ${issue.message}`);
  }
  return r.data;
}

const idBody = z.object({ id: z.string().startsWith('/'), changedBy: z.string().optional(), correlationId: z.string().min(1).max(128).optional() });

/** HTTP form of the side door: POST /_sandbox/{resources/put|resources/update|resources/delete|subscriptions|compliance}. */
export function handleSideDoor(state: SandboxState, method: string, path: string, query: URLSearchParams, body: unknown): { status: number; body?: unknown } {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /_sandbox/state':
      return { status: 200, body: { tenantId: state.tenant.tenantId, rootManagementGroupId: state.tenant.rootGroupId(),
        resources: [...state.tenant.resources.values()].filter((r) => !r.builtIn).map((r) => present(state.tenant, r)) } };
    case 'GET /_sandbox/changes':
      return { status: 200, body: { value: state.changes(query.get('since') ?? undefined) } };
    case 'POST /_sandbox/resources/put': {
      const b = parseOrThrow(idBody.extend({ body: z.record(z.string(), z.unknown()) }), body, 'body');
      return { status: 200, body: state.put(b.id, b.body as Body, b.changedBy, b.correlationId) };
    }
    case 'POST /_sandbox/resources/update': {
      const b = parseOrThrow(idBody.extend({ patch: z.record(z.string(), z.unknown()) }), body, 'body');
      return { status: 200, body: state.update(b.id, b.patch as Body, b.changedBy, b.correlationId) };
    }
    case 'POST /_sandbox/resources/delete': {
      const b = parseOrThrow(idBody, body, 'body');
      return { status: state.delete(b.id, b.changedBy, b.correlationId) ? 200 : 204 };
    }
    case 'POST /_sandbox/subscriptions': {
      const b = parseOrThrow(z.object({ subscriptionId: z.string().min(1), displayName: z.string().optional(),
        managementGroupId: z.string().optional(), changedBy: z.string().optional() }), body, 'body');
      return { status: 200, body: state.addSubscription(b, b.changedBy) };
    }
    case 'POST /_sandbox/compliance': {
      const b = parseOrThrow(z.object({ states: z.array(z.unknown()) }), body, 'body');
      return { status: 200, body: { value: state.setCompliance(b.states as ComplianceInput[]) } };
    }
    case 'POST /_sandbox/policy/remediate':
      return { status: 200, body: state.remediate(body as RemediateInput) };
    case 'POST /_sandbox/deployments/start': {
      const b = parseOrThrow(z.object({ scope: z.string().startsWith('/'), name: z.string().regex(/^[^/?#]{1,64}$/),
        state: z.enum(['Running', 'Accepted']).optional(), correlationId: z.string().optional(), startedBy: z.string().optional() }), body, 'body');
      return { status: 200, body: state.startDeployment(b, b.startedBy) };
    }
    case 'POST /_sandbox/deployments/finish': {
      const b = parseOrThrow(z.object({ scope: z.string().startsWith('/'), name: z.string().min(1), state: z.enum(FINAL_STATES).optional() }), body, 'body');
      return { status: 200, body: state.finishDeployment(b) };
    }
    case 'DELETE /_sandbox/compliance':
      state.clearCompliance();
      return { status: 200 };
    default:
      throw new ArmError(404, 'NotFound', `The sandbox side door has no route '${route}'.`);
  }
}


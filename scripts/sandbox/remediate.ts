// The side door's policy engine: a resource written by a Modify or DeployIfNotExists assignment,
// as Azure records it (the assignment's managed identity, an Application, the policy's operation),
// with the remediation and, for DeployIfNotExists, the deployment that explain it.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ArmError, badRequest } from './errors.ts';
import { key, sameType, parseArmPath, idParts, RG_TYPE } from './arm-ids.ts';
import { deepMerge } from './diff.ts';
import { prepareWrite, present } from './rules.ts';
import { notFoundFor } from './arm-routes.ts';
import { recordFinishedDeployment, type Deployments } from './deployments.ts';
import { publicBody, type Body, type Tenant } from './tenant.ts';
import {
  assignmentFor, remediationScope, presentRemediation, REMEDIATION_TYPE,
  type Remediations, type RemediationRecord, type RemediationDeploymentRecord,
} from './remediations.ts';

export const remediateInput = z.object({
  assignmentId: z.string().startsWith('/'),
  resourceId: z.string().startsWith('/'),
  patch: z.record(z.string(), z.unknown()).optional(),
  body: z.record(z.string(), z.unknown()).optional(),
  effect: z.enum(['modify', 'deployIfNotExists']).optional(),
  /** The design note's name for `effect`. */
  operation: z.enum(['modify', 'deployIfNotExists']).optional(),
  /** Failed: the deployment is recorded as failed and the resource is left as it is. */
  status: z.enum(['Succeeded', 'Failed']).optional(),
  /** Adds to (or completes) this remediation; a new one is named when absent. */
  remediationName: z.string().regex(/^[^/?#]+$/).optional(),
  /** Where the remediation lives (default: the assignment's scope). */
  scope: z.string().startsWith('/').optional(),
  policyDefinitionReferenceId: z.string().optional(),
});
export type RemediateInput = z.infer<typeof remediateInput>;

export const POLICY_CLIENT_TYPE = 'Azure Policy';

export function policyOperation(effect: 'modify' | 'deployIfNotExists'): string {
  return `Microsoft.Authorization/policies/${effect}/action`;
}

/**
 * Writes a resource as the policy assignment's managed identity (Modify: a patch of an existing
 * resource; DeployIfNotExists: a body, created or replaced) and records the remediation with a
 * deployment for it. Everything is checked before anything is written.
 */
export function remediate(t: Tenant, remediations: Remediations, deployments: Deployments, raw: unknown) {
  const parsed = remediateInput.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest('InvalidRequestContent', `body${issue.path.length ? '.' + issue.path.join('.') : ''}: ${issue.message}`);
  }
  const input = parsed.data;
  const effect = input.effect ?? input.operation;
  if (!effect) throw badRequest('InvalidRequestContent', "body.effect: 'modify' or 'deployIfNotExists' is required.");
  if ((input.patch === undefined) === (input.body === undefined)) throw badRequest('InvalidRequestContent', 'body: give exactly one of patch (merge) or body (replace).');
  const pa = assignmentFor(t, input.assignmentId, 'body.assignmentId');
  const principalId: unknown = pa.body.identity?.principalId;
  if (typeof principalId !== 'string' || !principalId) {
    throw badRequest('PolicyAssignmentHasNoIdentity', `body.assignmentId '${pa.id}' has no managed identity; Modify and DeployIfNotExists remediations run as the assignment's identity.`);
  }
  if (!t.isWithin(input.resourceId, pa.parent)) {
    throw badRequest('InvalidRemediationScope', `body.resourceId '${input.resourceId}' is not under the scope '${pa.parent}' of policy assignment '${pa.name}'.`);
  }
  const scope = remediationScope(t, input.scope ?? pa.parent, 'body.scope');
  if (!t.isWithin(scope, pa.parent) || !t.isWithin(input.resourceId, scope)) {
    throw badRequest('InvalidRemediationScope', `body.scope '${scope}' must be at or below the assignment's scope '${pa.parent}' and hold body.resourceId.`);
  }
  const name = input.remediationName ?? `sandbox-${randomUUID()}`;
  const remediationId = `${scope}/providers/${REMEDIATION_TYPE}/${name}`;
  const prior = remediations.get(remediationId);
  if (prior && key(prior.policyAssignmentId) !== key(pa.id)) {
    throw new ArmError(409, 'RemediationConflict', `body.remediationName '${name}' remediates another assignment ('${prior.policyAssignmentId}').`);
  }
  const parsedRef = parseArmPath(input.resourceId);
  if (parsedRef.kind !== 'item') throw badRequest('InvalidResourceId', `body.resourceId '${input.resourceId}' is not a resource id.`);
  const ref = parsedRef.ref;
  const existing = t.get(ref.id);
  let incoming: Body;
  if (input.patch) {
    if (!existing) throw notFoundFor(ref);
    incoming = deepMerge(publicBody(existing.body), input.patch) as Body;
  } else {
    if (effect === 'modify' && !existing) throw badRequest('InvalidRequestContent', `body.resourceId '${ref.id}' does not exist; Modify changes existing resources (deployIfNotExists creates them).`);
    incoming = input.body as Body;
  }
  const target = existing ? { ...ref, id: existing.id, name: existing.name } : ref;
  const stored = prepareWrite(t, target, incoming, existing);

  // Checked; now write: the resource (unless the remediation failed), then the deployment and the
  // remediation that explain it.
  const status = input.status ?? 'Succeeded';
  const correlationId = randomUUID();
  const actor = { changedBy: principalId, changedByType: 'Application' as const, clientType: POLICY_CLIENT_TYPE, correlationId };
  const resource = status === 'Failed' ? existing : t.write(target, stored, actor, policyOperation(effect)).resource;
  const resourceId = resource?.id ?? target.id;
  const now = new Date().toISOString();
  let deploymentId: string | undefined;
  if (effect === 'deployIfNotExists') {
    const { subscriptionId, resourceGroup } = idParts(resourceId);
    const rg = subscriptionId && resourceGroup ? t.get(`/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`) : undefined;
    const depScope = rg && sameType(rg.type, RG_TYPE) ? rg.id : subscriptionId ? `/subscriptions/${subscriptionId}` : scope;
    deploymentId = recordFinishedDeployment(deployments, depScope, randomUUID(), correlationId, principalId, status).id;
  }
  const deployment: RemediationDeploymentRecord = {
    remediatedResourceId: resourceId, ...(deploymentId ? { deploymentId } : {}), status,
    resourceLocation: String(resource?.body.location ?? stored.location ?? ''), createdOn: now, lastUpdatedOn: now,
  };
  const base: RemediationRecord = prior ?? {
    id: remediationId, scope, name, policyAssignmentId: pa.id, policyDefinitionReferenceId: input.policyDefinitionReferenceId,
    resourceDiscoveryMode: 'ExistingNonCompliant', correlationId, createdBy: principalId, createdByType: 'Application',
    createdOn: now, lastUpdatedOn: now, deployments: [],
  };
  const kept = base.deployments.filter((d) => key(d.remediatedResourceId) !== key(resourceId));
  const prev = base.deployments.find((d) => key(d.remediatedResourceId) === key(resourceId));
  const record: RemediationRecord = { ...base, lastUpdatedOn: now, deployments: [...kept, { ...deployment, createdOn: prev?.createdOn ?? now }] };
  remediations.put(record);
  return {
    remediation: presentRemediation(record), resource: resource ? present(t, resource) : undefined,
    correlationId, principalId, operation: policyOperation(effect),
  };
}

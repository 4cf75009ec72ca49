// The Pulumi program of one stack, built with @pulumi/azure-native resource classes from the DesiredState.
// Resources are named by their ARM id and registered in DesiredState order (groups, definitions,
// assignments, role assignments); dependencies inside the stack become `dependsOn`.
import * as pulumi from '@pulumi/pulumi';
import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as management from '@pulumi/azure-native/management/index.js';
import { Provider } from '@pulumi/azure-native/provider.js';
import { isOutputRef, type DesiredResource, type DesiredState } from './model.ts';

type Props = Record<string, any>;

function stackResources(state: DesiredState, stack: string): DesiredResource[] {
  const plan = state.stacks.find((s) => s.name === stack);
  if (!plan) throw new Error(`stack "${stack}" is not in the DesiredState (stacks: ${state.stacks.map((s) => s.name).join(', ') || 'none'})`);
  const byId = new Map(state.resources.map((r) => [r.id, r]));
  return plan.resourceIds.map((id) => byId.get(id)!);
}

/** The management group id in a `/providers/Microsoft.Management/managementGroups/<id>` scope. */
function groupId(scope: string): string {
  const m = /\/managementGroups\/([^/]+)$/i.exec(scope);
  if (!m) throw new Error(`not a management group scope: ${scope}`);
  return m[1]!;
}

/** Pick the named keys that are present (ARM bodies hold read-only fields the SDK does not take). */
function pick(p: Props, keys: string[]): Props {
  const out: Props = {};
  for (const k of keys) if (p[k] !== undefined) out[k] = p[k];
  return out;
}

/** Registers the stack's resources; returns them by ARM id. Exposed for tests. */
export async function registerStack(state: DesiredState, stack: string): Promise<Map<string, pulumi.CustomResource>> {
  const resources = stackResources(state, stack);
  const created = new Map<string, pulumi.CustomResource>();
  const value = (v: unknown): pulumi.Input<any> => {
    if (!isOutputRef(v)) return v as pulumi.Input<any>;
    const target = created.get(v.$ref) as unknown as Record<string, pulumi.Output<any>> | undefined;
    if (!target) throw new Error(`${v.$ref} is referenced in stack "${stack}" but not created before it`);
    const [head, ...rest] = v.output.split('.');
    return target[head!]!.apply((o: any) => rest.reduce((acc, k) => acc?.[k], o));
  };
  for (const r of resources) {
    const opts: pulumi.CustomResourceOptions = { dependsOn: r.dependsOn.flatMap((d) => (created.has(d) ? [created.get(d)!] : [])) };
    const p = r.body.properties as Props;
    let res: pulumi.CustomResource;
    switch (r.kind) {
      case 'managementGroup':
        res = new management.ManagementGroup(r.id, { groupId: r.name, displayName: p.displayName, details: { parent: { id: p.details?.parent?.id } } }, opts);
        break;
      case 'subscriptionPlacement':
        // The SDK takes the subscription from its provider: one explicit provider per placed subscription
        // (it reads credentials from the environment like the default provider).
        res = new management.ManagementGroupSubscription(
          r.id,
          { groupId: groupId(r.scope) },
          { ...opts, provider: new Provider(`subscription-${r.name}`, { subscriptionId: r.name }) },
        );
        break;
      case 'policyDefinition':
        res = new authorization.PolicyDefinitionAtManagementGroup(
          r.id,
          { managementGroupId: groupId(r.scope), policyDefinitionName: r.name, ...pick(p, ['displayName', 'description', 'mode', 'metadata', 'parameters', 'policyRule', 'policyType', 'version']) },
          opts,
        );
        break;
      case 'policySetDefinition':
        res = new authorization.PolicySetDefinitionAtManagementGroup(
          r.id,
          {
            managementGroupId: groupId(r.scope),
            policySetDefinitionName: r.name,
            policyDefinitions: p.policyDefinitions,
            ...pick(p, ['displayName', 'description', 'metadata', 'parameters', 'policyDefinitionGroups', 'policyType', 'version']),
          },
          opts,
        );
        break;
      case 'roleDefinition':
        res = new authorization.RoleDefinition(
          r.id,
          { scope: r.scope, roleDefinitionId: r.name, roleType: 'CustomRole', ...pick(p, ['roleName', 'description', 'permissions', 'assignableScopes']) },
          opts,
        );
        break;
      case 'policyAssignment':
        res = new authorization.PolicyAssignment(
          r.id,
          {
            scope: r.scope,
            policyAssignmentName: r.name,
            ...pick(p, ['policyDefinitionId', 'displayName', 'description', 'parameters', 'enforcementMode', 'nonComplianceMessages', 'notScopes', 'metadata', 'definitionVersion', 'overrides', 'resourceSelectors']),
            ...(r.body.identity ? { identity: { type: r.body.identity.type as authorization.ResourceIdentityType }, location: r.body.location } : {}),
          },
          opts,
        );
        break;
      case 'policyExemption':
        res = new authorization.PolicyExemption(
          r.id,
          {
            scope: r.scope,
            policyExemptionName: r.name,
            policyAssignmentId: p.policyAssignmentId,
            exemptionCategory: p.exemptionCategory,
            ...pick(p, ['displayName', 'description', 'expiresOn', 'metadata', 'policyDefinitionReferenceIds', 'resourceSelectors', 'assignmentScopeValidation']),
          },
          opts,
        );
        break;
      case 'roleAssignment':
        res = new authorization.RoleAssignment(
          r.id,
          {
            scope: r.scope,
            roleAssignmentName: r.name,
            roleDefinitionId: p.roleDefinitionId,
            principalId: value(p.principalId),
            ...pick(p, ['principalType', 'description', 'condition', 'conditionVersion']),
          },
          opts,
        );
        break;
      case 'resource':
        res = await genericResource(r, opts);
        break;
    }
    created.set(r.id, res);
  }
  return created;
}

/** `azure-native:<module>:<Class>` from an archetype's spec.resources, created with its inputs. */
async function genericResource(r: DesiredResource, opts: pulumi.CustomResourceOptions): Promise<pulumi.CustomResource> {
  const [pkg, mod, cls] = r.type.split(':');
  if (pkg !== 'azure-native' || !mod || !cls || !/^[a-z0-9]+$/i.test(mod)) {
    throw new Error(`resource ${r.name} (${r.source.file}): type ${r.type} is not an azure-native resource type`);
  }
  const m = (await import(`@pulumi/azure-native/${mod}/index.js`)) as Record<string, unknown>;
  const ctor = (m[cls] ?? (m.default as Record<string, unknown> | undefined)?.[cls]) as (new (name: string, args: Props, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource) | undefined;
  if (typeof ctor !== 'function') throw new Error(`resource ${r.name} (${r.source.file}): azure-native has no ${mod}.${cls}`);
  return new ctor(r.name, r.body.properties, opts);
}

/** The inline program for `stack` (one management group). */
export function azureNativeProgram(state: DesiredState, stack: string): PulumiFn {
  return async () => {
    const created = await registerStack(state, stack);
    return { resourceCount: created.size };
  };
}

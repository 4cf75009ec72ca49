// What the drift pull request tests share: a copy of the shipped archetypes as the landing-zone
// repository, the real compiler over it (the ALZ library and built-ins from the environment), and
// drift reports shaped as the drift report builder makes them.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, tenantOptionsFor } from '../../../../stacks/compile/index.ts';
import type { DesiredState } from '../../../../stacks/compile/model.ts';
import { parseGuardrails, type Guardrails } from '../../../../functions/reconcile/guardrails.ts';
import type { ChangeAttribution, DriftItem, DriftReport, PropertyDrift } from '../../../../functions/drift/model.ts';

export const ARCHETYPES = join(import.meta.dirname, '../../../../archetypes');

/** A temp folder holding a copy of archetypes/ (the repository at the applied commit). */
export function repoCopy(prefix = 'drift-pr-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(ARCHETYPES, dir, { recursive: true });
  return dir;
}

export function compileRepo(dir: string): DesiredState {
  const state = compile({ ...tenantOptionsFor(dir, { NEXUS_ALZ_LIBRARY: process.env.NEXUS_ALZ_LIBRARY }), builtinPolicies: process.env.NEXUS_BUILTIN_POLICIES }).state;
  const errors = state.findings.filter((f) => f.severity === 'error');
  if (errors.length) throw new Error(`the archetypes do not compile: ${errors.map((e) => `${e.file} ${e.path}: ${e.message}`).join('; ')}`);
  return state;
}

export const assignmentId = (mg: string, name: string) => `/providers/Microsoft.Management/managementGroups/${mg}/providers/Microsoft.Authorization/policyAssignments/${name}`;

export const alice: ChangeAttribution = { changedBy: 'alice@contoso.com', actor: 'person', clientType: 'Azure Portal', at: '2026-12-01T09:30:00Z', source: 'activity-log' };
export const pipeline: ChangeAttribution = { changedBy: 'deploy-sp', actor: 'pipeline', at: '2026-12-01T10:00:00Z', source: 'activity-log' };

export function item(resourceId: string, resourceType: string, properties: PropertyDrift[], changes: ChangeAttribution[] = [alice]): DriftItem {
  return { resourceId, resourceType, kind: 'configuration', action: 'pull-request', properties, signals: ['engine', 'activity-log'], changes, why: 'changed outside Nexus' };
}

export const PA = 'Microsoft.Authorization/policyAssignments';

export function report(stack: string, items: DriftItem[]): DriftReport {
  return { stack, at: '2026-12-01T12:00:00Z', mode: 'pull-request', items, suppressed: [], counts: { configuration: items.length }, unavailable: [] };
}

export function guardrails(): Guardrails {
  return parseGuardrails({
    approvals: {
      rules: [
        { name: 'role-changes', kinds: ['roleAssignments', 'roleDefinitions'], ops: ['update', 'replace', 'delete'], group: 'platform-approvers', approvers: 1 },
        { name: 'corp-policies', kinds: ['policyAssignments'], scopes: ['*/managementGroups/corp'], group: 'network-approvers', approvers: 1 },
      ],
    },
  });
}

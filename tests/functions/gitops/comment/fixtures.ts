// A realistic pull request preview, built by hand in the shapes of stacks/engine/changeset.ts:
// creates, an update with nested property diffs, a replace, a delete, a stack whose preview
// failed, a blocked stack, one that needs approval, unchanged stacks, findings and drift.
import type { ChangeSet, ResourceChange } from '../../../../stacks/engine/changeset.ts';
import type { GateResult } from '../../../../functions/reconcile/model.ts';
import type { PreviewReport, StackPreview } from '../../../../functions/gitops/types.ts';

export const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const mg = (name: string) => `/providers/Microsoft.Management/managementGroups/${name}`;
const pa = (scope: string, name: string) => `${mg(scope)}/providers/Microsoft.Authorization/policyAssignments/${name}`;

export function change(p: Partial<ResourceChange> & { op: ResourceChange['op']; armId: string }): ResourceChange {
  return {
    urn: `urn:pulumi:alz::nexus::nexus:arm:Resource::${p.armId.split('/').pop()}`,
    type: 'nexus:arm:Resource', armType: 'Microsoft.Authorization/policyAssignments', changedKeys: [], diffs: [], ...p,
  };
}

export function changeSet(stack: string, changes: ResourceChange[], kind: ChangeSet['kind'] = 'preview'): ChangeSet {
  const summary = { create: 0, update: 0, replace: 0, delete: 0, same: 0 } as ChangeSet['summary'];
  for (const c of changes) summary[c.op] = (summary[c.op] ?? 0) + 1;
  return { stack, kind, summary, changes, diagnostics: [], policyEvents: [], unknowns: [] };
}

const pass = (gate: GateResult['gate']): GateResult => ({ gate, pass: true, reason: 'OK', details: { message: 'ok' } });
const allPass = (): GateResult[] => (['kill-switch', 'scope-guardrails', 'blast-radius', 'rate-limits', 'preview-reliability', 'approvals'] as const).map(pass);

export function stack(p: Partial<StackPreview> & { stack: string; verdict: StackPreview['verdict'] }): StackPreview {
  return { gates: allPass(), reasons: [], ...p };
}

/** Update with nested property diffs: an effect parameter and the notScopes array. */
export const corpUpdate = change({
  op: 'update', armId: pa('alz-corp', 'Deny-Public-IP'),
  changedKeys: ['properties'],
  diffs: [
    { path: 'properties.parameters.effect.value', kind: 'update', old: 'Audit', new: 'Deny' },
    {
      path: 'properties.notScopes', kind: 'update',
      old: [mg('alz-sandbox')], new: [mg('alz-sandbox'), mg('alz-decommissioned')],
    },
    { path: 'properties.metadata', kind: 'add', new: { assignedBy: 'Nexus', version: { major: 2, minor: 1 } } },
  ],
});

export function realistic(): PreviewReport {
  const corp = stack({
    stack: 'alz-corp', verdict: 'apply',
    changeSet: changeSet('alz-corp', [
      change({ op: 'create', armId: pa('alz-corp', 'Deploy-Private-DNS') }),
      change({ op: 'create', armId: `${mg('alz-corp')}/providers/Microsoft.Authorization/roleAssignments/5b1d`, armType: 'Microsoft.Authorization/roleAssignments' }),
      corpUpdate,
      change({ op: 'same', armId: pa('alz-corp', 'Unchanged-One') }),
    ]),
  });
  const platform = stack({
    stack: 'alz-platform', verdict: 'needs-approval',
    changeSet: changeSet('alz-platform', [change({
      op: 'replace', armId: `${mg('alz-platform')}/providers/Microsoft.Authorization/policyDefinitions/Audit-Tags`,
      armType: 'Microsoft.Authorization/policyDefinitions',
      diffs: [{ path: 'properties.policyType', kind: 'update', old: 'BuiltIn', new: 'Custom' }],
    })]),
    gates: [...allPass().slice(0, 5), { gate: 'approvals', pass: false, hold: true, reason: 'APPROVAL_REQUIRED', details: { message: 'replaces need two approvers' } }],
    approvals: [{ rule: 'protected-replaces', group: 'platform-owners', approvers: 2 }],
    reasons: ['APPROVAL_REQUIRED'],
  });
  const online = stack({
    stack: 'alz-online', verdict: 'blocked',
    changeSet: changeSet('alz-online', [change({ op: 'delete', armId: pa('alz-online', 'Deny-RDP-From-Internet'), diffs: [] })]),
    gates: [allPass()[0], { gate: 'scope-guardrails', pass: false, reason: 'SCOPE_DENIED', details: { message: 'alz-online is outside the allowed scopes' } }, ...allPass().slice(2)],
    reasons: ['SCOPE_DENIED'],
  });
  const sandbox = stack({
    stack: 'alz-sandbox', verdict: 'error', reasons: ['PREVIEW_FAILED'],
    error: 'ARM returned 500 InternalServerError for GET /providers/Microsoft.Management/managementGroups/alz-sandbox\n  at request (arm.ts:42)',
  });
  const landing = stack({
    stack: 'alz-landing', verdict: 'apply',
    changeSet: changeSet('alz-landing', [change({
      op: 'update', armId: pa('alz-landing', 'a|b<script>alert(1)</script>'),
      diffs: [{ path: 'properties.description', kind: 'update', old: 'plain', new: 'has ``` a fence\n```\n</details> and <b>html</b>' }],
    })]),
  });
  const decommissioned = stack({
    stack: 'alz-decommissioned', verdict: 'no-change', changeSet: changeSet('alz-decommissioned', []),
    drift: changeSet('alz-decommissioned', [change({
      op: 'update', armId: pa('alz-decommissioned', 'Enforce-TLS'),
      diffs: [{ path: 'properties.enforcementMode', kind: 'update', old: 'Default', new: 'DoNotEnforce' }],
    })], 'refresh-preview'),
  });
  return {
    repo: 'github:contoso/landing-zones', pr: 42, commit: SHA, compileFailed: false,
    findings: [
      { severity: 'warning', file: 'archetypes/corp.yaml', path: 'spec.policies[2].parameters.effect', message: 'effect Deny blocks existing deployments', code: 'effect-tightened' },
      { severity: 'info', file: '', path: '', message: 'library version 2025.09.1' },
      { severity: 'error', file: 'archetypes/online.yaml', path: 'spec.parent', message: 'parent alz-gone is not defined', code: 'unknown-parent' },
    ],
    stacks: [corp, landing, sandbox, decommissioned, platform, online],
    unchanged: ['alz-connectivity', 'alz-identity'],
    portalUrl: 'http://127.0.0.1:7071/portal/runs/run-0001',
    conclusion: 'failure',
    at: '2026-12-03T16:20:00.000Z',
  };
}

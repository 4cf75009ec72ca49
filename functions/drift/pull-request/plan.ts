// Drift → the pull request that proposes it: the live value adopted into the archetype where an
// archetype can express it (a policy assignment's parameter, enforcement mode or non-compliance
// messages, as its own declaration or an `overrides.policies` entry), the revert documented in
// `drift/<stack>.md` where it cannot, and a body with the drift, the risk and the approvals.
// Pure apart from reading the repository snapshot; the Git host is sync.ts's.
import { createHash } from 'node:crypto';
import type { DesiredResource, DesiredState } from '../../../stacks/compile/model.ts';
import type { FileWrite } from '../../platform/git-host/types.ts';
import type { ApprovalRequirement } from '../../reconcile/gates/types.ts';
import type { Guardrails } from '../../reconcile/guardrails.ts';
import type { DriftItem, DriftReport } from '../model.ts';
import { driftApprovals } from './approvals.ts';
import { applyEdit, editTarget, readRepoArchetypes, type ArchetypeFile, type AssignmentField, type RepoArchetypes } from './archetypes.ts';
import { renderBody, renderRevertDoc, type PlannedProperty, type Proposal } from './render.ts';
import { driftRisk, type Risk } from './risk.ts';

export const PLAN_MARKER_PREFIX = '<!-- nexus:drift-plan sha256=';

export interface DriftPullRequestPlan {
  stack: string;
  branch: string;
  title: string;
  /** Ends with the hidden marker that carries `hash`. */
  body: string;
  files: FileWrite[];
  /** sha256 of title, body (without the marker) and files: equal plans, equal hashes. */
  hash: string;
  risk: Risk;
  approvals: ApprovalRequirement[];
  planned: PlannedProperty[];
}

export interface PlanInput {
  report: DriftReport;
  desired: DesiredState;
  /** The landing-zone repository's files at the applied commit. */
  repoDir: string;
  guardrails: Guardrails;
}

export function driftBranch(stack: string): string {
  return `nexus/drift/${stack}`;
}

/** `a.b[0].c` or `a.b.0.c` → ['a', 'b', '0', 'c']. */
export function splitPath(path: string): string[] {
  return path.replace(/\[(\d+)\]/g, '.$1').split('.').filter((s) => s !== '');
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let at: any = target;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') return;
    if (at[k] === null || typeof at[k] !== 'object') at[k] = /^\d+$/.test(path[i + 1]!) ? [] : {};
    at = at[k];
  }
  const last = path[path.length - 1]!;
  if (last === '__proto__' || last === 'constructor' || last === 'prototype') return;
  if (value === undefined) {
    if (Array.isArray(at) && /^\d+$/.test(last)) at.splice(Number(last), 1);
    else delete at[last];
  } else {
    at[last] = value;
  }
}

/** The live ARM body: the desired one with every differing property set to its live value. */
function liveBody(d: DesiredResource, item: DriftItem): Record<string, any> {
  const body = structuredClone(d.body) as Record<string, unknown>;
  for (const p of item.properties) setPath(body, splitPath(p.path), structuredClone(p.live));
  return body as Record<string, any>;
}

function ownValue(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : (obj as Record<string, unknown>)[k];
}

/** Which archetype field a property path is, and its live value; a reason when none. */
function fieldOf(path: string[], live: Record<string, any>): { field: AssignmentField; key: string; value: unknown } | { reason: string } {
  if (path[0] !== 'properties' || path.length < 2) return { reason: 'not an assignment property an archetype sets' };
  const props = live.properties ?? {};
  if (path[1] === 'parameters' && path[2]) {
    const raw = ownValue(props.parameters, path[2]);
    if (raw === undefined) return { reason: `parameter ${path[2]} was removed (its default comes from the definition)` };
    const value = raw && typeof raw === 'object' && !Array.isArray(raw) && Object.hasOwn(raw, 'value') ? (raw as { value: unknown }).value : raw;
    return { field: { parameter: path[2] }, key: `parameters.${path[2].toLowerCase()}`, value };
  }
  if (path[1] === 'enforcementMode') return { field: 'enforcementMode', key: 'enforcementMode', value: props.enforcementMode ?? 'Default' };
  if (path[1] === 'nonComplianceMessages') return { field: 'nonComplianceMessages', key: 'nonComplianceMessages', value: props.nonComplianceMessages ?? [] };
  return { reason: `${path.slice(0, 2).join('.')} is not expressible in an archetype` };
}

function planItem(item: DriftItem, d: DesiredResource | undefined, repo: RepoArchetypes, touched: Set<ArchetypeFile>): PlannedProperty[] {
  const doc = (reason: string) => item.properties.map((property) => ({ item, property, proposal: { kind: 'documented', reason } as Proposal }));
  if (!d) return doc('no archetype declares this resource');
  if (d.kind !== 'policyAssignment') return doc(`a ${d.kind} is reverted, not adopted`);
  if (!d.source.archetype || !d.source.managementGroup) return doc('its source archetype is not known');
  const live = liveBody(d, item);
  const done = new Map<string, Proposal>();
  return item.properties.map((property) => {
    const f = fieldOf(splitPath(property.path), live);
    if ('reason' in f) return { item, property, proposal: { kind: 'documented', reason: f.reason } };
    const again = done.get(f.key);
    if (again) return { item, property, proposal: again };
    const t = editTarget(repo, d.source.managementGroup!, d.name, d.source.archetype!, f.field);
    if (!t) {
      const proposal: Proposal = { kind: 'documented', reason: `declared by ${d.source.archetype}, which no archetype of this repository can override for ${d.source.managementGroup}` };
      done.set(f.key, proposal);
      return { item, property, proposal };
    }
    applyEdit(t, f.value);
    touched.add(t.file);
    const proposal: Proposal = { kind: 'adopted', file: t.file.path, where: t.where };
    done.set(f.key, proposal);
    return { item, property, proposal };
  });
}

function riskContext(desired: DesiredState) {
  const intermediate = new Set<string>();
  for (const r of desired.resources) {
    if (r.kind !== 'managementGroup') continue;
    const parent = (r.body.properties as { details?: { parent?: { id?: string } } }).details?.parent?.id;
    const m = parent ? /managementgroups\/([^/]+)$/i.exec(parent) : null;
    if (m) intermediate.add(m[1]!.toLowerCase());
  }
  intermediate.add(desired.rootManagementGroupId.toLowerCase());
  return { tenantRootId: desired.tenantRootId, intermediateGroups: intermediate };
}

/**
 * The pull request for the report's `configuration` items with action `pull-request`; undefined
 * when there are none, or when the repository already says what is live.
 */
export function planDriftPullRequest(input: PlanInput): DriftPullRequestPlan | undefined {
  const { report, desired } = input;
  const items = report.items.filter((i) => (i.kind === 'configuration' || i.kind === 'flapping') && i.action === 'pull-request' && i.properties.length > 0);
  if (items.length === 0) return undefined;
  const stack = report.stack;
  const byId = new Map(desired.resources.map((r) => [r.id.toLowerCase(), r]));
  const repo = readRepoArchetypes(input.repoDir);
  const touched = new Set<ArchetypeFile>();
  const planned = items.flatMap((i) => planItem(i, byId.get(i.resourceId.toLowerCase()), repo, touched));
  const files: FileWrite[] = [...touched]
    .map((f) => ({ path: f.path, content: f.doc.toString({ lineWidth: 0, flowCollectionPadding: false }), was: f.text }))
    .filter((f) => f.content !== f.was)
    .map(({ path, content }) => ({ path, content }))
    .sort((a, b) => a.path.localeCompare(b.path));
  if (planned.some((p) => p.proposal.kind === 'documented')) files.push({ path: `drift/${stack}.md`, content: renderRevertDoc(stack, planned) });
  // The archetypes at the applied commit already hold every live value: nothing to propose (the
  // next apply of that commit ends the drift).
  if (files.length === 0) return undefined;
  const risk = driftRisk(items, riskContext(desired));
  const approvals = driftApprovals(stack, items, byId, input.guardrails);
  const adopted = planned.filter((p) => p.proposal.kind === 'adopted').length;
  const title = `Drift on ${stack}: ${adopted ? `adopt ${adopted} live value${adopted === 1 ? '' : 's'}` : 'document the revert'}${adopted && adopted < planned.length ? ', document the rest' : ''}`;
  const text = renderBody({ stack, planned, risk, approvals });
  const hash = createHash('sha256').update(JSON.stringify({ title, body: text, files })).digest('hex');
  return { stack, branch: driftBranch(stack), title, body: `${text}\n\n${PLAN_MARKER_PREFIX}${hash} -->`, files, hash, risk, approvals, planned };
}

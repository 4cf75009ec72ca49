// The drift report of one stack, built from the signals (pure: the drift step reads them). Each
// managed resource that a signal points at is judged (desired against live, normalised, with its
// baseline and the paths a policy owns); what remains is classified and given an action:
// deployments in progress first, then remediations (left to the policy), policy-owned properties,
// flapping properties, and only then configuration drift, acted on per the stack's mode.
// Compliance drift is listed apart and never changes what the apply does.
import { attributor, type Who } from './attribution.ts';
import { flapKey, flappingKeys } from './flapping.ts';
import type { ChangeAttribution, DriftAction, DriftItem, DriftKind, DriftMode, DriftReport, DriftSignal, PropertyDrift, SuppressionCount } from './model.ts';
import type { Difference, JudgeInput, Judgement, OwnedPath } from './normalise/types.ts';
import { isUnder, sameJson, valueAt } from './paths.ts';
import { renderDiff } from './render.ts';
import type { ArmBody, DeploymentRow, HistoryChange, PolicyStateRow, RemediationRow } from './signals.ts';

/** One managed resource (or one the history says appeared at a managed scope). */
export interface ResourceView {
  id: string;
  type: string;
  /** The body Nexus would PUT; undefined for a resource Nexus does not manage. */
  desired?: ArmBody;
  /** The live body; null when gone, undefined when it was not read. */
  live?: ArmBody | null;
  baseline?: ArmBody;
  /** The engine's refresh preview saw it differ. */
  engineSaw?: boolean;
  ownedPaths?: OwnedPath[];
  childPaths?: string[];
}

export interface DriftInputs {
  stack: string;
  runId?: string;
  at: string;
  mode: DriftMode;
  resources: ResourceView[];
  changes: HistoryChange[];
  nonCompliant: PolicyStateRow[];
  remediations: RemediationRow[];
  deployments: DeploymentRow[];
  /** Earlier reports of the stack, newest first (flapping). */
  earlier: DriftReport[];
  who: Who;
  judge(input: JudgeInput): Judgement;
  unavailable?: DriftReport['unavailable'];
  /** Compliance items listed at most (the counts stay complete). */
  maxComplianceItems?: number;
}

const MAX_CHANGES_PER_ITEM = 10;

export function buildDriftReport(i: DriftInputs): DriftReport {
  const history = byResource(i.changes, i.who);
  const remediated = remediatedResources(i.remediations);
  const suppressed = new Map<string, SuppressionCount>();
  const items: DriftItem[] = [];

  for (const d of i.deployments) {
    items.push({
      resourceId: d.id, resourceType: 'Microsoft.Resources/deployments', kind: 'deployment-in-progress', action: 'wait',
      properties: [], signals: ['deployments'], changes: [],
      why: `deployment '${d.name}' is ${d.provisioningState}${d.timestamp ? ` since ${d.timestamp}` : ''}: the run waits rather than race it`,
    });
  }

  const judged: { r: ResourceView; j: Judgement; props: PropertyDrift[]; changes: ChangeAttribution[]; signals: DriftSignal[] }[] = [];
  for (const r of i.resources) {
    if (r.live === undefined) continue;
    // Gone and never applied (no baseline) and unseen by the engine: a create the apply is to make, not a deletion.
    if (r.live === null && !r.baseline && r.desired && !r.engineSaw) continue;
    const j = i.judge({ resourceType: r.type, desired: r.desired ?? null, live: r.live, baseline: r.baseline, ownedPaths: r.ownedPaths, childPaths: r.childPaths });
    for (const s of j.suppressed) count(suppressed, s.rule, s.path);
    const changes = history.get(r.id.toLowerCase()) ?? [];
    // A difference whose live value is still the baseline's is a desired change not yet applied, not
    // drift. Without a baseline, a difference is drift only with evidence that something changed the
    // live resource: the engine's refresh saw it, or the history has a change not made by Nexus.
    const evidence = r.engineSaw || changes.some((c) => c.actor !== 'nexus');
    const diffs = r.baseline && r.desired && r.live ? j.differences.filter((x) => !sameJson(valueAt(r.baseline, x.path), x.live))
      : !r.baseline && r.desired && !evidence ? []
        : j.differences;
    for (const x of j.differences) if (!diffs.includes(x)) count(suppressed, 'pending-desired-change', x.path);
    const owned = j.suppressed.filter((s) => (r.ownedPaths ?? []).some((o) => o.owner === s.rule));
    const signals = signalsOf(r, changes);
    if (diffs.length === 0) {
      if (owned.length > 0) {
        items.push({
          resourceId: r.id, resourceType: r.type, kind: 'policy-owned', action: 'leave-to-policy',
          properties: owned.map((s) => ({ path: s.path, desired: valueAt(r.desired, s.path), live: valueAt(r.live, s.path) })),
          signals, changes: changes.slice(0, MAX_CHANGES_PER_ITEM),
          why: `${owned.map((s) => s.path).join(', ')} ${owned.length === 1 ? 'is' : 'are'} written by ${[...new Set(owned.map((s) => s.rule))].join(', ')}`,
        });
      }
      continue;
    }
    judged.push({ r, j, props: diffs.map((x) => withWho(x, changes)), changes, signals });
  }

  const flaps = flappingKeys(judged.flatMap(({ r, props }) => props.map((p) => ({ resourceId: r.id, path: p.path, live: p.live }))), i.earlier);
  for (const { r, props, changes, signals } of judged) {
    const { kind, action, why } = classify(r, props, changes, remediated, flaps, i.mode);
    items.push({
      resourceId: r.id, resourceType: r.type, kind, action, properties: props, signals,
      changes: changes.slice(0, MAX_CHANGES_PER_ITEM), why, diffText: renderDiff(props.map((p) => ({ path: p.path, desired: p.desired, live: p.live }))),
    });
  }

  items.push(...complianceItems(i.nonCompliant, remediated, i.maxComplianceItems ?? 200));
  const counts: Partial<Record<DriftKind, number>> = {};
  for (const it of items) counts[it.kind] = (counts[it.kind] ?? 0) + 1;
  const listed = items.filter((x) => x.kind === 'compliance').length;
  const allCompliance = new Set(i.nonCompliant.map((s) => s.resourceId.toLowerCase())).size;
  if (allCompliance > listed) counts.compliance = allCompliance;
  return {
    stack: i.stack, runId: i.runId, at: i.at, mode: i.mode, items, counts,
    suppressed: [...suppressed.values()].sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule)),
    unavailable: i.unavailable ?? [],
  };
}

/** The resources Nexus should not put back in this run: everything drifted that is not to be remediated. */
export function heldBack(report: DriftReport): Set<string> {
  const held = (x: DriftItem) => x.kind === 'remediation' || ((x.kind === 'configuration' || x.kind === 'flapping') && x.action !== 'remediate');
  return new Set(report.items.filter(held).map((x) => x.resourceId.toLowerCase()));
}

function classify(
  r: ResourceView, props: PropertyDrift[], changes: ChangeAttribution[], remediated: Set<string>, flaps: Set<string>, mode: DriftMode,
): { kind: DriftKind; action: DriftAction; why: string } {
  const paths = props.map((p) => p.path).join(', ');
  const byPolicy = props.every((p) => p.changedBy?.actor === 'policy');
  if (remediated.has(r.id.toLowerCase()) || (byPolicy && changes.length > 0)) {
    return { kind: 'remediation', action: 'leave-to-policy', why: `a policy remediation changed ${paths}; Nexus never reverts a remediation` };
  }
  const flapping = props.filter((p) => flaps.has(flapKey(r.id, p.path)));
  if (flapping.length > 0) {
    // Still acted on per the mode: a deny policy someone keeps turning off is put back every time;
    // the kind tells operators it is a fight, not a new drift.
    return { kind: 'flapping', action: r.desired ? mode : 'report', why: `${flapping.map((p) => p.path).join(', ')} went back and forth across recent runs (someone or something keeps changing it)` };
  }
  const who = [...new Set(props.map((p) => p.changedBy?.changedBy).filter(Boolean))];
  const by = who.length ? ` by ${who.join(', ')}` : '';
  if (!r.desired) {
    // Nexus cannot put back what it does not manage: it reports (or documents it in a pull request).
    return { kind: 'configuration', action: mode === 'pull-request' ? 'pull-request' : 'report', why: `not in the desired state; created${by}` };
  }
  if (r.live === null) return { kind: 'configuration', action: mode, why: `deleted${by}` };
  return { kind: 'configuration', action: mode, why: `${paths} changed${by}` };
}

function complianceItems(states: PolicyStateRow[], remediated: Set<string>, max: number): DriftItem[] {
  const byResource = new Map<string, { id: string; assignments: string[] }>();
  for (const s of states) {
    const k = s.resourceId.toLowerCase();
    const e = byResource.get(k) ?? { id: s.resourceId, assignments: [] };
    e.assignments.push(s.policyAssignmentId);
    byResource.set(k, e);
  }
  return [...byResource.values()]
    .sort((a, b) => b.assignments.length - a.assignments.length || a.id.localeCompare(b.id))
    .slice(0, max)
    .map((e) => ({
      resourceId: e.id, resourceType: typeOf(e.id), kind: 'compliance' as const,
      action: remediated.has(e.id.toLowerCase()) ? 'leave-to-policy' as const : 'report' as const,
      properties: [], signals: ['policy-compliance' as const], changes: [], policyAssignmentId: e.assignments[0],
      why: `non-compliant with ${e.assignments.length} assignment${e.assignments.length === 1 ? '' : 's'}: ${e.assignments.map(lastSegment).join(', ')}`,
    }));
}

function byResource(changes: HistoryChange[], who: Who): Map<string, (ChangeAttribution & { paths: string[] })[]> {
  const out = new Map<string, (ChangeAttribution & { paths: string[] })[]>();
  const attribute = attributor(who);
  for (const c of changes) {
    const k = c.resourceId.toLowerCase();
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push({ ...attribute(c), paths: c.paths });
  }
  for (const list of out.values()) list.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return out;
}

/** The latest change that touched the property, else the latest change of the resource that is not Nexus's own. */
function withWho(d: Difference, changes: (ChangeAttribution & { paths?: string[] })[]): PropertyDrift {
  const touching = changes.find((c) => c.paths?.some((p) => isUnder(d.path, p) || isUnder(p, d.path)));
  const any = touching ?? changes.find((c) => c.actor !== 'nexus');
  const changedBy = any ? strip(any) : undefined;
  return { path: d.path, desired: d.desired, live: d.live, ...(changedBy ? { changedBy } : {}) };
}

function strip(c: ChangeAttribution & { paths?: string[] }): ChangeAttribution {
  const { paths: _p, ...rest } = c;
  return rest;
}

function signalsOf(r: ResourceView, changes: ChangeAttribution[]): DriftSignal[] {
  const s = new Set<DriftSignal>();
  if (r.engineSaw) s.add('engine');
  for (const c of changes) s.add(c.source === 'activity-log' ? 'activity-log' : 'change-history');
  return [...s];
}

function remediatedResources(rows: RemediationRow[]): Set<string> {
  const out = new Set<string>();
  for (const r of rows) {
    if (/^(failed|canceled|cancelled)$/i.test(r.provisioningState)) continue;
    for (const id of r.resourceIds) out.add(id.toLowerCase());
  }
  return out;
}

function count(m: Map<string, SuppressionCount>, rule: string, path: string): void {
  let c = m.get(rule);
  if (!c) m.set(rule, (c = { rule, count: 0, examples: [] }));
  c.count++;
  if (c.examples.length < 5 && !c.examples.includes(path)) c.examples.push(path);
}

function lastSegment(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

function typeOf(id: string): string {
  const m = /\/providers\/([^/]+)\/([^/]+)\/[^/]+(?:\/([^/]+)\/[^/]+)?$/i.exec(id);
  if (m) return m[3] ? `${m[1]}/${m[2]}/${m[3]}` : `${m[1]}/${m[2]}`;
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(id)) return 'Microsoft.Resources/resourceGroups';
  if (/^\/subscriptions\/[^/]+$/i.test(id)) return 'Microsoft.Resources/subscriptions';
  return '';
}

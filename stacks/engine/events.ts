// The engine's event stream turned into a ChangeSet: one change per resource, the property
// differences with old and new values, summary counts, diagnostics and policy events.
import type { EngineEvent, StepEventMetadata, StepEventStateMetadata } from '@pulumi/pulumi/automation/index.js';
import type { ChangeOp, ChangeSet, ChangeSummary, PropertyDiff, ResourceChange } from './changeset.ts';
import { diffValues, unknownPaths, valueAt } from './property-diff.ts';
import { ARM_REST_MODULE } from './arm-rest-provider.ts';

/** ARM facts per URN, from the DesiredState, for guardrails. */
export interface ArmFacts { armType: string; armId: string; scope: string }

const ANSI = /\x1b\[[0-9;]*m|<\{%[a-z-]*%\}>/g;

const OPS: Record<string, ChangeOp> = {
  same: 'same', create: 'create', update: 'update', replace: 'replace', delete: 'delete', read: 'read',
  'create-replacement': 'create-replacement', 'delete-replaced': 'delete-replaced', import: 'import',
  'import-replacement': 'import', 'read-replacement': 'read', refresh: 'refresh', 'read-discard': 'discard',
  'discard-replaced': 'discard', 'remove-pending-replace': 'discard',
};

/** The steps of a replacement that the logical `replace` stands for. */
const REPLACEMENT_PARTS = new Set(['create-replacement', 'delete-replaced', 'discard-replaced', 'remove-pending-replace']);

const isArmRest = (type: string) => type.startsWith(`pulumi-nodejs:dynamic/${ARM_REST_MODULE}:`);

/**
 * The properties as people know them. An arm-rest resource keeps its ARM body under `body`;
 * it is shown as the ARM resource (`properties.x`, `identity`, `id`, `apiVersion`) so paths read the
 * same as in the ARM API and in guardrails. Pulumi's `__provider` (the serialised provider) is
 * never a user-visible property.
 */
export function comparable(type: string, props: Record<string, any> | undefined): Record<string, unknown> {
  if (!props) return {};
  const { __provider: _p, ...rest } = props;
  if (!isArmRest(type)) return rest;
  const { armId, armType: _t, apiVersion, body, ...other } = rest;
  return { ...(armId !== undefined ? { id: armId } : {}), ...(apiVersion !== undefined ? { apiVersion } : {}), ...(body ?? {}), ...other };
}

/** Maps a Pulumi detailed-diff path of an arm-rest resource (`body.properties.x`) to the ARM path. */
function armPath(type: string, path: string): string {
  if (!isArmRest(type)) return path;
  if (path === 'armId') return 'id';
  return path.replace(/^body\.?/, '');
}

function detailedDiffs(meta: StepEventMetadata): PropertyDiff[] {
  const oldIn = meta.old?.inputs ?? {};
  const newIn = meta.new?.inputs ?? {};
  return Object.entries(meta.detailedDiff ?? {}).flatMap(([path, d]) => {
    if (path === '__provider') return [];
    const kind: PropertyDiff['kind'] = d.diffKind.startsWith('add') ? 'add' : d.diffKind.startsWith('delete') ? 'delete' : 'update';
    const source = (s: StepEventStateMetadata | undefined, inputs: Record<string, unknown>) => (d.inputDiff ? inputs : s?.outputs ?? {});
    const out: PropertyDiff = { path: armPath(meta.type, path), kind };
    if (kind !== 'add') out.old = valueAt(source(meta.old, oldIn), path);
    if (kind !== 'delete') out.new = valueAt(source(meta.new, newIn), path);
    return [out];
  });
}

function changeFor(meta: StepEventMetadata, kind: ChangeSet['kind'], arm: Map<string, ArmFacts>): ResourceChange {
  let op: ChangeOp = OPS[meta.op] ?? (meta.op as ChangeOp);
  let diffs: PropertyDiff[] = [];
  if (meta.op === 'refresh') {
    // A refresh step reads the live resource: a difference between the state before and after
    // is drift (an update), a resource that is gone is a delete.
    if (!meta.new || meta.new.delete || !meta.new.id) op = 'delete';
    else {
      diffs = diffValues(comparable(meta.type, meta.old?.outputs), comparable(meta.type, meta.new.outputs));
      op = diffs.length ? 'update' : 'same';
    }
  } else if (meta.op === 'update' || meta.op === 'replace') {
    diffs = meta.detailedDiff && Object.keys(meta.detailedDiff).length
      ? detailedDiffs(meta)
      : diffValues(comparable(meta.type, meta.old?.inputs), comparable(meta.type, meta.new?.inputs));
  }
  void kind;
  const facts = arm.get(meta.urn);
  return {
    op,
    urn: meta.urn,
    type: meta.type,
    ...(facts ? { armType: facts.armType, armId: facts.armId, scope: facts.scope } : {}),
    changedKeys: [...new Set(diffs.map((d) => d.path))],
    diffs,
  };
}

/** Engine bookkeeping resources (the stack itself, provider instances) are not changes people make. */
const isBookkeeping = (type: string) => type === 'pulumi:pulumi:Stack' || type.startsWith('pulumi:providers:');

/** Collects events of one operation and builds its ChangeSet. */
export class ChangeSetBuilder {
  private steps = new Map<string, StepEventMetadata>();
  private readonly set: ChangeSet;

  constructor(stack: string, kind: ChangeSet['kind'], private readonly arm: Map<string, ArmFacts> = new Map()) {
    this.set = {
      stack, kind, summary: { create: 0, update: 0, replace: 0, delete: 0, same: 0 },
      changes: [], diagnostics: [], policyEvents: [], unknowns: [],
    };
  }

  /** Feed every engine event here (the Automation API's onEvent). */
  readonly onEvent = (e: EngineEvent): void => {
    const meta = e.resOutputsEvent?.metadata ?? e.resourcePreEvent?.metadata ?? e.resOpFailedEvent?.metadata;
    if (meta && !isBookkeeping(meta.type)) {
      const prev = this.steps.get(meta.urn);
      // One change per resource: the logical `replace` stands for its create/delete parts, and a
      // completed step (outputs event) replaces the planned one (pre event) for the same op.
      if (!(prev && prev.op === 'replace' && REPLACEMENT_PARTS.has(meta.op))) this.steps.set(meta.urn, meta);
    }
    // Debug lines are the SDK talking to itself; they are not part of what a change means.
    if (e.diagnosticEvent && !e.diagnosticEvent.ephemeral && (e.diagnosticEvent.severity as string) !== 'debug') {
      const d = e.diagnosticEvent;
      this.set.diagnostics.push({
        severity: d.severity, message: d.message.replace(ANSI, '').trim(), ...(d.urn ? { urn: d.urn } : {}),
      });
    }
    if (e.policyEvent) {
      const p = e.policyEvent;
      this.set.policyEvents.push({
        policyName: p.policyName, message: p.message.replace(ANSI, '').trim(), enforcementLevel: p.enforcementLevel,
        ...(p.resourceUrn ? { urn: p.resourceUrn } : {}),
      });
    }
    if (e.summaryEvent) this.set.engineSummary = { ...(e.summaryEvent.resourceChanges as Record<string, number>) };
  };

  build(): ChangeSet {
    const changes = this.inPlanOrder([...this.steps.values()]).map((m) => changeFor(m, this.set.kind, this.arm));
    const summary: ChangeSummary = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
    for (const c of changes) summary[c.op] = (summary[c.op] ?? 0) + 1;
    const unknowns = [...this.steps.values()].flatMap((m) =>
      unknownPaths(comparable(m.type, m.new?.inputs)).map((path) => ({ urn: m.urn, path })),
    );
    return { ...this.set, summary, changes, unknowns };
  }

  /**
   * The engine runs independent steps in parallel, so event order varies from run to run. A
   * ChangeSet lists resources in the DesiredState's order (dependencies first), then the ones it
   * no longer holds (deletes) by URN, so the same change always reads the same.
   */
  private inPlanOrder(steps: StepEventMetadata[]): StepEventMetadata[] {
    const rank = new Map([...this.arm.keys()].map((urn, i) => [urn, i]));
    const at = (m: StepEventMetadata) => rank.get(m.urn) ?? Number.MAX_SAFE_INTEGER;
    return steps.sort((a, b) => at(a) - at(b) || (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  }
}

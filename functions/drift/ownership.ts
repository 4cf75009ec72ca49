// Which properties of a resource a policy owns: the fields Modify and Append assignments at or
// above its scope write, for a resource of a type their `if` can match. Also the DeployIfNotExists
// and Modify assignments that act on a type (Nexus never reverts what they did).
import { BuiltinCache, isBuiltinPolicyId } from '../../stacks/compile/builtins.ts';
import type { DesiredResource, DesiredState } from '../../stacks/compile/model.ts';
import { parameterValues, resolveExpr, type DefinitionRecord } from '../../stacks/compile/policy-model.ts';
import type { OwnedPath } from './normalise/types.ts';
import { evaluate, fieldPath } from './policy-fields.ts';

export type DefinitionLookup = (id: string) => DefinitionRecord | undefined;

/** Definitions as the DesiredState deploys them (custom), else from the built-in cache. */
export function stateDefinitions(state: DesiredState, builtins: BuiltinCache): DefinitionLookup {
  const custom = new Map<string, DesiredResource>();
  for (const r of state.resources) if (r.kind === 'policyDefinition' || r.kind === 'policySetDefinition') custom.set(r.id.toLowerCase(), r);
  return (id) => {
    const r = custom.get(id.toLowerCase());
    if (r) return { kind: r.kind as DefinitionRecord['kind'], name: r.name, file: r.source.file, builtin: false, properties: r.body.properties as DefinitionRecord['properties'] };
    if (!isBuiltinPolicyId(id)) return undefined;
    const b = builtins.get(id);
    return b ? { kind: b.kind, name: String(b.value.name), file: b.file, builtin: true, properties: b.value.properties as DefinitionRecord['properties'] } : undefined;
  };
}

const key = (s: string) => s.toLowerCase();
const MG_ID = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)/i;
const SUB_ID = /^\/subscriptions\/([^/]+)(\/resourceGroups\/([^/]+))?/i;

type Tri = boolean | undefined;

/** Whether a policy's `if` can match a resource of `type`, judging only `type` conditions. */
export function typeCondition(cond: unknown, type: string, values: ReadonlyMap<string, unknown>, depth = 0): Tri {
  if (depth > 32 || typeof cond !== 'object' || cond === null || Array.isArray(cond)) return undefined;
  const c = cond as Record<string, unknown>;
  if (Array.isArray(c.allOf)) {
    const r = c.allOf.map((x) => typeCondition(x, type, values, depth + 1));
    return r.includes(false) ? false : r.every((x) => x === true) ? true : undefined;
  }
  if (Array.isArray(c.anyOf)) {
    const r = c.anyOf.map((x) => typeCondition(x, type, values, depth + 1));
    return r.includes(true) ? true : r.length > 0 && r.every((x) => x === false) ? false : undefined;
  }
  if ('not' in c) {
    const r = typeCondition(c.not, type, values, depth + 1);
    return r === undefined ? undefined : !r;
  }
  if (typeof c.field !== 'string' || c.field.toLowerCase() !== 'type') return undefined;
  const operand = (k: string): unknown => {
    const e = evaluate(c[k], values);
    return 'skip' in e ? undefined : e.value;
  };
  const t = type.toLowerCase();
  const is = (v: unknown) => typeof v === 'string' && v.toLowerCase() === t;
  const inList = (v: unknown): Tri => (Array.isArray(v) ? v.some(is) : undefined);
  const like = (v: unknown): Tri => {
    if (typeof v !== 'string') return undefined;
    const re = new RegExp(`^${v.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
    return re.test(type);
  };
  const not = (x: Tri): Tri => (x === undefined ? undefined : !x);
  if ('equals' in c) return operand('equals') === undefined ? undefined : is(operand('equals'));
  if ('notEquals' in c) return operand('notEquals') === undefined ? undefined : !is(operand('notEquals'));
  if ('in' in c) return inList(operand('in'));
  if ('notIn' in c) return not(inList(operand('notIn')));
  if ('like' in c) return like(operand('like'));
  if ('notLike' in c) return not(like(operand('notLike')));
  return undefined;
}

export interface Ownership {
  paths: OwnedPath[];
  /** What could not be evaluated (a field built with an unsupported function, an unknown definition); shared, frozen. */
  notes: readonly string[];
}

/** The effect a definition has with these values (`[parameters('effect')]` resolved), lower-cased. */
export function effectOf(def: DefinitionRecord, values: Record<string, unknown>): string {
  const e = evaluate(def.properties.policyRule?.then?.effect, new Map(Object.entries(values)));
  return 'skip' in e ? '' : String(e.value ?? '').toLowerCase();
}

/** The fields a Modify or Append definition writes (not yet evaluated). */
function writtenFields(def: DefinitionRecord, effect: string): unknown[] {
  const details = def.properties.policyRule?.then?.details as unknown;
  if (effect === 'modify') {
    const ops = (details as { operations?: unknown })?.operations;
    return Array.isArray(ops) ? ops.filter((o) => ['addorreplace', 'add'].includes(String(o?.operation).toLowerCase())).map((o) => o.field) : [];
  }
  if (effect === 'append') return Array.isArray(details) ? details.map((d) => d?.field) : [];
  return [];
}

export interface RemediatingAssignment {
  assignmentId: string;
  effect: 'deployifnotexists' | 'modify';
  /** The policy definition (the set member for a set assignment). */
  definitionId: string;
  referenceId?: string;
  /** `modifies`: a Modify whose `if` can match the type; `deploys`: a DINE whose deployment (`details.type`) is of this type. */
  reason: 'modifies' | 'deploys';
}

type Leaf = { id: string; def: DefinitionRecord; values: Record<string, unknown>; evaluated: ReadonlyMap<string, unknown>; referenceId?: string };
type Resource = { id: string; type: string };

/**
 * Policy ownership over one DesiredState. Built once per drift run: assignments are indexed by scope
 * and each assignment's definitions resolved once; results are shared by resources of one type
 * under the same assignments.
 */
export class PolicyOwnership {
  private readonly parentOf = new Map<string, string>();
  private readonly groupOfSub = new Map<string, string>();
  private readonly byScope = new Map<string, DesiredResource[]>();
  /** Each assignment's notScopes, lower-cased once. */
  private readonly notScopes = new Map<DesiredResource, string[]>();
  private readonly resolved = new Map<string, { leaves: Leaf[]; notes: string[] }>();
  private readonly owned = new Map<string, Ownership>();
  private readonly remediating = new Map<string, RemediatingAssignment[]>();

  constructor(
    state: DesiredState,
    private readonly lookup: DefinitionLookup,
  ) {
    for (const r of state.resources) {
      if (r.kind === 'managementGroup') {
        const p = (r.body.properties as { details?: { parent?: { id?: string } } }).details?.parent?.id;
        if (p) this.parentOf.set(key(r.id), p);
      } else if (r.kind === 'subscriptionPlacement') this.groupOfSub.set(key(r.name), r.scope);
      else if (r.kind === 'policyAssignment') {
        this.byScope.set(key(r.scope), [...(this.byScope.get(key(r.scope)) ?? []), r]);
        const ns = r.body.properties.notScopes;
        this.notScopes.set(r, Array.isArray(ns) ? ns.filter((n): n is string => typeof n === 'string').map(key) : []);
      }
    }
  }

  /**
   * The scopes a resource inherits assignments from, itself first: its resource group and
   * subscription, then the subscription's management group and that group's ancestors (as the
   * DesiredState places and nests them).
   */
  scopeChain(resourceId: string): string[] {
    const out: string[] = [resourceId];
    let mg: string | undefined;
    const sub = SUB_ID.exec(resourceId);
    if (sub) {
      if (sub[2]) out.push(`/subscriptions/${sub[1]}${sub[2]}`);
      out.push(`/subscriptions/${sub[1]}`);
      mg = this.groupOfSub.get(key(sub[1]!));
    } else {
      const m = MG_ID.exec(resourceId);
      if (m) mg = `/providers/Microsoft.Management/managementGroups/${m[1]}`;
    }
    for (let i = 0; mg && i < 16; i++) {
      out.push(mg);
      mg = this.parentOf.get(key(mg));
    }
    return [...new Map(out.map((s) => [key(s), s])).values()];
  }

  /** The assignments at or above the resource (their notScopes honoured). */
  assignmentsAbove(resourceId: string): DesiredResource[] {
    return this.above(resourceId).assignments;
  }

  /**
   * The assignments, and a key shared by every resource that gets the same ones: the scopes that
   * hold assignments plus the ones a notScope left out (not the resource's own id, so siblings share).
   */
  private above(resourceId: string): { assignments: DesiredResource[]; memo: string } {
    const id = key(resourceId);
    const assignments: DesiredResource[] = [];
    const memo: string[] = [];
    for (const s of this.scopeChain(resourceId)) {
      const here = this.byScope.get(key(s));
      if (!here) continue;
      memo.push(key(s));
      for (const a of here) {
        if (this.notScopes.get(a)!.some((n) => id === n || id.startsWith(`${n}/`))) memo.push(`-${key(a.id)}`);
        else assignments.push(a);
      }
    }
    return { assignments, memo: memo.join('|') };
  }

  /** Every policy definition an assignment evaluates, with its effective parameter values. */
  private leaves(a: DesiredResource): { leaves: Leaf[]; notes: string[] } {
    const done = this.resolved.get(a.id);
    if (done) return done;
    const out: Leaf[] = [];
    const notes: string[] = [];
    const leaf = (id: string, def: DefinitionRecord, values: Record<string, unknown>, referenceId?: string): Leaf =>
      ({ id, def, values, evaluated: new Map(Object.entries(values)), ...(referenceId ? { referenceId } : {}) });
    const defId = String(a.body.properties.policyDefinitionId ?? '');
    const def = this.lookup(defId);
    const values = def ? parameterValues(def, a.body.properties.parameters as Record<string, { value: unknown }> | undefined) : {};
    if (!def) notes.push(`${a.id}: definition ${defId} is not known (not in the state nor the built-in cache); its ownership is not computed`);
    else if (def.kind === 'policyDefinition') out.push(leaf(defId, def, values));
    else {
      for (const m of def.properties.policyDefinitions ?? []) {
        const member = this.lookup(m.policyDefinitionId);
        if (!member || member.kind !== 'policyDefinition') {
          notes.push(`${a.id}: set member ${m.policyDefinitionReferenceId ?? m.policyDefinitionId} is not known; its ownership is not computed`);
          continue;
        }
        const given: Record<string, { value: unknown }> = {};
        for (const [k, v] of Object.entries(m.parameters ?? {})) given[k] = { value: resolveExpr(v.value, values) };
        out.push(leaf(m.policyDefinitionId, member, parameterValues(member, given), m.policyDefinitionReferenceId));
      }
    }
    const r = { leaves: out, notes };
    this.resolved.set(a.id, r);
    return r;
  }

  /** The properties of a resource (id and ARM type) that Modify and Append assignments at or above it write. */
  ownership(resource: Resource): Ownership {
    const { assignments: above, memo: scopes } = this.above(resource.id);
    const memo = `${key(resource.type)}|${scopes}`;
    const hit = this.owned.get(memo);
    if (hit) return { paths: hit.paths.map((p) => ({ ...p })), notes: hit.notes };
    const paths = new Map<string, OwnedPath>();
    const notes: string[] = [];
    for (const a of above) {
      const { leaves, notes: unresolved } = this.leaves(a);
      notes.push(...unresolved);
      for (const leaf of leaves) {
        const effect = effectOf(leaf.def, leaf.values);
        if (effect !== 'modify' && effect !== 'append') continue;
        // Append acts only when a request is evaluated; DoNotEnforce turns that off (Modify can still remediate).
        if (effect === 'append' && a.body.properties.enforcementMode === 'DoNotEnforce') continue;
        if (typeCondition(leaf.def.properties.policyRule?.if, resource.type, leaf.evaluated) === false) continue;
        const where = `${a.id}${leaf.referenceId ? ` (${leaf.referenceId})` : ''}`;
        for (const raw of writtenFields(leaf.def, effect)) {
          const field = evaluate(raw, leaf.evaluated);
          if ('skip' in field) {
            notes.push(`${where}: field skipped: ${field.skip}`);
            continue;
          }
          if (typeof field.value !== 'string') {
            notes.push(`${where}: field ${JSON.stringify(field.value)} is not a string`);
            continue;
          }
          const p = fieldPath(field.value, resource.type);
          if ('skip' in p) notes.push(`${where}: ${p.skip}`);
          if (!('path' in p)) continue;
          const owner = `policy-${effect}:${a.id}`;
          paths.set(`${p.path}\u0000${owner}`, { path: p.path, owner });
        }
      }
    }
    const result = { paths: [...paths.values()], notes: Object.freeze(notes) };
    this.owned.set(memo, result);
    return { paths: result.paths.map((p) => ({ ...p })), notes: result.notes };
  }

  ownedPaths(resource: Resource): OwnedPath[] {
    return this.ownership(resource).paths;
  }

  /**
   * The DeployIfNotExists and Modify assignments at or above a resource that act on its type. A DINE
   * counts for the type it deploys (`details.type`), not the one it evaluates (it leaves that one as it is).
   */
  remediatingAssignments(resource: Resource): RemediatingAssignment[] {
    const { assignments: above, memo: scopes } = this.above(resource.id);
    const memo = `${key(resource.type)}|${scopes}`;
    const hit = this.remediating.get(memo);
    if (hit) return hit.map((r) => ({ ...r }));
    const out: RemediatingAssignment[] = [];
    for (const a of above) {
      for (const leaf of this.leaves(a).leaves) {
        const effect = effectOf(leaf.def, leaf.values);
        if (effect !== 'deployifnotexists' && effect !== 'modify') continue;
        const base = { assignmentId: a.id, effect, definitionId: leaf.id, ...(leaf.referenceId ? { referenceId: leaf.referenceId } : {}) } as const;
        if (effect === 'deployifnotexists') {
          const deployed = evaluate((leaf.def.properties.policyRule?.then?.details as { type?: unknown } | undefined)?.type, leaf.evaluated);
          if (!('skip' in deployed) && typeof deployed.value === 'string' && key(deployed.value) === key(resource.type)) out.push({ ...base, reason: 'deploys' });
        } else if (typeCondition(leaf.def.properties.policyRule?.if, resource.type, leaf.evaluated) !== false) {
          out.push({ ...base, reason: 'modifies' });
        }
      }
    }
    this.remediating.set(memo, out);
    return out.map((r) => ({ ...r }));
  }
}

/** One-off helpers (a drift run holds one PolicyOwnership instead). */
export const scopeChain = (state: DesiredState, resourceId: string) => new PolicyOwnership(state, () => undefined).scopeChain(resourceId);
export const ownership = (state: DesiredState, resource: Resource, lookup: DefinitionLookup) => new PolicyOwnership(state, lookup).ownership(resource);
export const ownedPaths = (state: DesiredState, resource: Resource, lookup: DefinitionLookup) => new PolicyOwnership(state, lookup).ownedPaths(resource);
export const remediatingAssignments = (state: DesiredState, resource: Resource, lookup: DefinitionLookup) => new PolicyOwnership(state, lookup).remediatingAssignments(resource);

// Conflicts along a path from the root to a group: a Deny (at the group or an ancestor) that forbids a
// resource type a DeployIfNotExists below it deploys, and one definition assigned twice on a path
// with contradicting parameter values.
import { bodyField } from '../archetypes.ts';
import type { PlacedAssignment, PlacedGroup } from '../placeholders.ts';
import { effectOf, leaves, parameterValues, resolveExpr, type DefinitionIndex, type DefinitionRecord } from '../policy-model.ts';
import type { ValidationInput } from './index.ts';

const ARM_MODES = new Set(['all', 'indexed']);

interface Deny {
  assignment: PlacedAssignment;
  group: string;
  types: Set<string>;
}

/** Resource types a rule's `if` forbids outright, or undefined when it also looks at other fields. */
export function deniedTypes(cond: unknown, values: Record<string, unknown>): string[] | undefined {
  if (!cond || typeof cond !== 'object') return undefined;
  const c = cond as Record<string, unknown>;
  if (c.field === 'type') {
    const v = resolveExpr(c.equals ?? c.in, values);
    if ('equals' in c && typeof v === 'string') return [v];
    if ('in' in c && Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    return undefined;
  }
  if (Array.isArray(c.allOf)) {
    const out: string[] = [];
    let typed = false;
    for (const part of c.allOf) {
      const p = part as Record<string, unknown>;
      // `[field('type')]` exists: always true for a resource, so it does not narrow the deny.
      if (p && p.value === "[field('type')]" && 'exists' in p) continue;
      const t = deniedTypes(part, values);
      if (!t) return undefined;
      typed = true;
      out.push(...t);
    }
    return typed ? out : undefined;
  }
  return undefined;
}

function deployedTypes(details: unknown): string[] {
  if (!details || typeof details !== 'object') return [];
  const d = details as { type?: unknown; deployment?: { properties?: { template?: { resources?: unknown } } } };
  const out: string[] = [];
  if (typeof d.type === 'string') out.push(d.type);
  const res = d.deployment?.properties?.template?.resources;
  if (Array.isArray(res)) for (const r of res) if (typeof (r as { type?: unknown })?.type === 'string') out.push((r as { type: string }).type);
  return out;
}

function denies(pg: PlacedGroup, index: DefinitionIndex): Deny[] {
  const out: Deny[] = [];
  for (const a of pg.assignments) {
    if (a.body.properties.enforcementMode === 'DoNotEnforce') continue;
    const def = index.lookup(a.definitionId);
    if (!def) continue;
    const types = new Set<string>();
    for (const leaf of leaves(def, parameterValues(def, a.body.properties.parameters), index)) {
      // Only Resource Manager modes deny ARM requests; resource provider modes (Kubernetes data, ...) do not.
      if (!ARM_MODES.has(String(leaf.def.properties.mode ?? 'all').toLowerCase())) continue;
      if (effectOf(leaf.def, leaf.values) !== 'deny') continue;
      for (const t of deniedTypes(leaf.def.properties.policyRule?.if, leaf.values) ?? []) types.add(t.toLowerCase());
    }
    if (types.size) out.push({ assignment: a, group: pg.eg.group.id, types });
  }
  return out;
}

/** Effect per policy the assignment evaluates (keyed by set member reference, or the definition). */
function effects(a: PlacedAssignment, index: DefinitionIndex): Map<string, string> {
  const out = new Map<string, string>();
  const def = index.lookup(a.definitionId);
  if (!def) return out;
  for (const leaf of leaves(def, parameterValues(def, a.body.properties.parameters), index)) {
    const key = leaf.member ? `member "${leaf.member.referenceId ?? leaf.member.index}"` : `"${def.properties.displayName ?? def.name}"`;
    out.set(key, effectOf(leaf.def, leaf.values));
  }
  return out;
}

const PARAM_REF = /^\[parameters\('([^']+)'\)\]$/i;

/** Parameters referenced in a rule's `if` as `in` lists: deny-lists, which add up rather than contradict. */
function inLists(cond: unknown, out: Set<string>): void {
  if (!cond || typeof cond !== 'object') return;
  if (Array.isArray(cond)) return cond.forEach((c) => inLists(c, out));
  const c = cond as Record<string, unknown>;
  const p = typeof c.in === 'string' ? PARAM_REF.exec(c.in)?.[1] : undefined;
  if (p) out.add(p.toLowerCase());
  for (const k of ['allOf', 'anyOf', 'not']) inLists(c[k], out);
}

/**
 * Parameters that two assignments may set differently without contradicting each other: the effect
 * (compared per policy instead) and deny-lists (two not-allowed lists both apply). For a set, the set
 * parameters its members pass into theirs.
 */
function compatibleParameters(def: DefinitionRecord, index: DefinitionIndex): Set<string> {
  const out = new Set<string>();
  const ref = (v: unknown) => (typeof v === 'string' ? PARAM_REF.exec(v)?.[1]?.toLowerCase() : undefined);
  if (def.kind === 'policyDefinition') {
    const p = ref(def.properties.policyRule?.then?.effect);
    if (p) out.add(p);
    inLists(def.properties.policyRule?.if, out);
  } else {
    for (const m of def.properties.policyDefinitions ?? []) {
      const member = index.lookup(m.policyDefinitionId);
      const own = member ? compatibleParameters(member, index) : new Set<string>();
      for (const [k, v] of Object.entries(m.parameters ?? {})) {
        const p = ref(v?.value);
        if (p && (own.has(k.toLowerCase()) || /effect/i.test(k))) out.add(p);
      }
    }
  }
  return out;
}

/** Parameters (not the effect, not deny-lists) whose effective values differ between two assignments of one definition. */
function differingParameters(def: DefinitionRecord, a: PlacedAssignment, b: PlacedAssignment, index: DefinitionIndex): { name: string; ours: unknown; theirs: unknown }[] {
  const skip = compatibleParameters(def, index);
  const ours = parameterValues(def, a.body.properties.parameters);
  const theirs = parameterValues(def, b.body.properties.parameters);
  const out: { name: string; ours: unknown; theirs: unknown }[] = [];
  for (const name of Object.keys(def.properties.parameters ?? {})) {
    if (skip.has(name.toLowerCase()) || /effect/i.test(name)) continue;
    if (!(name in ours) || !(name in theirs)) continue;
    if (JSON.stringify(ours[name]) === JSON.stringify(theirs[name])) continue;
    out.push({ name, ours: ours[name], theirs: theirs[name] });
  }
  return out;
}

export function hierarchyConflicts({ placed, index, findings }: ValidationInput): void {
  const byGroup = new Map(placed.map((pg) => [pg.eg.group.id, pg]));
  const denyCache = new Map<string, Deny[]>();
  const denyOf = (pg: PlacedGroup) => denyCache.get(pg.eg.group.id) ?? (denyCache.set(pg.eg.group.id, denies(pg, index)), denyCache.get(pg.eg.group.id)!);
  for (const pg of placed) {
    const path: PlacedGroup[] = [];
    for (let cur: PlacedGroup | undefined = pg; cur; cur = byGroup.get(cur.eg.group.parentId)) path.push(cur);
    const activeDenies = path.flatMap(denyOf);

    for (const a of pg.assignments) {
      const def = index.lookup(a.definitionId);
      if (!def) continue;
      for (const leaf of leaves(def, parameterValues(def, a.body.properties.parameters), index)) {
        if (effectOf(leaf.def, leaf.values) !== 'deployifnotexists') continue;
        for (const type of deployedTypes(leaf.def.properties.policyRule?.then?.details)) {
          const d = activeDenies.find((x) => x.types.has(type.toLowerCase()));
          if (!d) continue;
          findings.push({
            severity: 'error',
            code: 'deny-blocks-deploy',
            file: a.item.bodyAt.file,
            path: bodyField(a.item.bodyAt, 'policyDefinitionId'),
            message: `assignment "${a.name}" at "${pg.eg.group.id}" deploys ${type} with DeployIfNotExists, but assignment "${d.assignment.name}" at "${d.group}" denies that resource type`,
          });
        }
      }
    }

    // The same definition twice on this path: the effect each policy ends up with must agree
    // (a Deny above and an Audit or Disabled below of one policy contradict each other), and so must
    // the other parameters (two allowed-locations lists: a resource must satisfy both).
    for (const a of pg.assignments) {
      for (const other of path.flatMap((g) => g.assignments.map((b) => ({ b, group: g.eg.group.id })))) {
        const b = other.b;
        if (b === a || b.definitionId.toLowerCase() !== a.definitionId.toLowerCase()) continue;
        if (other.group === pg.eg.group.id && b.name <= a.name) continue; // each same-group pair once
        const parts: string[] = [];
        const ea = effects(a, index);
        const eb = effects(b, index);
        for (const [leaf, effect] of ea) {
          const theirs = eb.get(leaf);
          if (theirs === undefined || theirs === effect) continue;
          parts.push(`contradicting effects for ${leaf}: ${effect} vs ${theirs}`);
          break;
        }
        const def = index.lookup(a.definitionId);
        const differ = def ? differingParameters(def, a, b, index) : [];
        if (differ.length) parts.push(`contradicting parameters: ${differ.map((d) => `${d.name} ${JSON.stringify(d.ours)} vs ${JSON.stringify(d.theirs)}`).join('; ')}`);
        if (!parts.length) continue;
        findings.push({
          severity: 'warning',
          code: 'contradicting-parameters',
          file: a.item.bodyAt.file,
          path: bodyField(a.item.bodyAt, 'parameters', parts.length === 1 && differ.length ? differ[0]!.name : undefined),
          message: `"${a.name}" at "${pg.eg.group.id}" and "${b.name}" at "${other.group}" assign the same definition with ${parts.join(', and ')} (declared in ${a.item.bodyAt.file} and ${b.item.bodyAt.file})`,
        });
      }
    }
  }
}

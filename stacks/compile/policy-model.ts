// What a policy assignment means: its definition (custom or built-in), parameter values as Azure would
// evaluate them, effects, and the roles its managed identity needs.
import { BuiltinCache, isBuiltinPolicyId } from './builtins.ts';
import { parseCustomDefinitionId } from './ids.ts';
import type { ArmParameter } from './library/alz-schemas.ts';
import type { Library } from './library/types.ts';

export interface DefinitionRecord {
  kind: 'policyDefinition' | 'policySetDefinition';
  name: string;
  file: string;
  builtin: boolean;
  properties: {
    displayName?: string;
    mode?: string;
    version?: string;
    metadata?: Record<string, unknown>;
    parameters?: Record<string, ArmParameter>;
    policyRule?: { if: unknown; then: { effect: string; details?: unknown } };
    policyDefinitions?: { policyDefinitionId: string; policyDefinitionReferenceId?: string; parameters?: Record<string, { value: unknown }> }[];
  };
}

export class DefinitionIndex {
  constructor(
    readonly lib: Library,
    readonly builtins: BuiltinCache,
  ) {}

  lookup(id: string): DefinitionRecord | undefined {
    const custom = parseCustomDefinitionId(id);
    if (custom) {
      const src = custom.kind === 'policyDefinition' ? this.lib.policyDefinitions.get(custom.name) : this.lib.policySetDefinitions.get(custom.name);
      return src ? { kind: custom.kind, name: custom.name, file: src.file, builtin: false, properties: src.value.properties as DefinitionRecord['properties'] } : undefined;
    }
    if (isBuiltinPolicyId(id)) {
      const b = this.builtins.get(id);
      return b ? { kind: b.kind, name: String(b.value.name), file: b.file, builtin: true, properties: b.value.properties as DefinitionRecord['properties'] } : undefined;
    }
    return undefined;
  }
}

const PARAM_REF = /^\[parameters\('([^']+)'\)\]$/;

/** The value of an ARM template expression when it is a plain parameter reference; otherwise the value itself. */
export function resolveExpr(v: unknown, values: Record<string, unknown>): unknown {
  if (typeof v === 'string') {
    const m = PARAM_REF.exec(v);
    if (m) return values[m[1]!];
  }
  return v;
}

/** Parameter values as Azure evaluates them: the assignment's value, else the definition's default. */
export function parameterValues(def: DefinitionRecord, given: Record<string, { value: unknown }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // ARM parameter names are case-insensitive.
  const lower = new Map(Object.entries(given ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [k, p] of Object.entries(def.properties.parameters ?? {})) {
    const g = lower.get(k.toLowerCase());
    if (g) out[k] = g.value;
    else if ('defaultValue' in p) out[k] = p.defaultValue;
  }
  return out;
}

export interface Member {
  index: number;
  referenceId?: string;
  definitionId: string;
  def: DefinitionRecord | undefined;
  values: Record<string, unknown>;
}

/** The members of a set, each with its parameter values derived from the set's values. */
export function members(set: DefinitionRecord, setValues: Record<string, unknown>, index: DefinitionIndex): Member[] {
  return (set.properties.policyDefinitions ?? []).map((m, i) => {
    const def = index.lookup(m.policyDefinitionId);
    const given: Record<string, { value: unknown }> = {};
    for (const [k, v] of Object.entries(m.parameters ?? {})) given[k] = { value: resolveExpr(v.value, setValues) };
    return { index: i, referenceId: m.policyDefinitionReferenceId, definitionId: m.policyDefinitionId, def, values: def ? parameterValues(def, given) : {} };
  });
}

/** Every policy definition an assignment evaluates, with values (one for a policy, each member for a set). */
export function leaves(def: DefinitionRecord, values: Record<string, unknown>, index: DefinitionIndex): { def: DefinitionRecord; values: Record<string, unknown>; member?: Member }[] {
  if (def.kind === 'policyDefinition') return [{ def, values }];
  return members(def, values, index)
    .filter((m) => m.def && m.def.kind === 'policyDefinition')
    .map((m) => ({ def: m.def!, values: m.values, member: m }));
}

export function effectOf(def: DefinitionRecord, values: Record<string, unknown>): string {
  return String(resolveExpr(def.properties.policyRule?.then?.effect, values) ?? '').toLowerCase();
}

function details(def: DefinitionRecord): Record<string, unknown> {
  const d = def.properties.policyRule?.then?.details;
  return d && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
}

/**
 * Definitions spell one built-in role in different cases; ARM treats them as one, so the compiler
 * does too (two role assignments for one role, scope and principal are refused as duplicates).
 */
export function canonicalRoleId(id: string): string {
  const m = /^\/providers\/microsoft\.authorization\/roledefinitions\/([0-9a-f-]{36})$/i.exec(id);
  return m ? `/providers/Microsoft.Authorization/roleDefinitions/${m[1]!.toLowerCase()}` : id;
}

/** Role definition ids that DeployIfNotExists and Modify policies declare for remediation. */
export function roleDefinitionIds(def: DefinitionRecord, index: DefinitionIndex): string[] {
  const out = new Set<string>();
  const add = (d: DefinitionRecord) => {
    const ids = details(d).roleDefinitionIds;
    if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') out.add(canonicalRoleId(id));
  };
  if (def.kind === 'policyDefinition') add(def);
  else for (const m of members(def, {}, index)) if (m.def?.kind === 'policyDefinition') add(m.def);
  return [...out];
}

/** Values of parameters marked `assignPermissions` (on the set or reached through it on a member). */
export function assignPermissionValues(def: DefinitionRecord, values: Record<string, unknown>, index: DefinitionIndex): { parameter: string; value: unknown }[] {
  const out: { parameter: string; value: unknown }[] = [];
  const seen = new Set<string>();
  const add = (parameter: string, value: unknown) => {
    const key = `${parameter}=${JSON.stringify(value)}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ parameter, value });
    }
  };
  for (const [k, p] of Object.entries(def.properties.parameters ?? {})) if (p.metadata?.assignPermissions) add(k, values[k]);
  if (def.kind === 'policySetDefinition') {
    const refs = def.properties.policyDefinitions ?? [];
    for (const m of members(def, values, index)) {
      for (const [k, p] of Object.entries(m.def?.properties.parameters ?? {})) {
        if (!p.metadata?.assignPermissions) continue;
        // Name the assignment-level parameter the value came through, when it is a plain reference.
        const raw = refs[m.index]?.parameters?.[k]?.value;
        const via = typeof raw === 'string' ? PARAM_REF.exec(raw)?.[1] : undefined;
        add(via ?? k, m.values[k]);
      }
    }
  }
  return out;
}

/** Marked preview or deprecated by metadata, version suffix or display name. */
export function lifecycle(def: DefinitionRecord): 'preview' | 'deprecated' | undefined {
  const md = def.properties.metadata ?? {};
  const v = String(def.properties.version ?? md.version ?? '').toLowerCase();
  const name = def.properties.displayName ?? '';
  if (md.deprecated === true || String(md.deprecated).toLowerCase() === 'true' || v.endsWith('-deprecated') || /^\[deprecated\]/i.test(name)) return 'deprecated';
  if (md.preview === true || String(md.preview).toLowerCase() === 'true' || v.endsWith('-preview') || /^\[preview\]/i.test(name)) return 'preview';
  return undefined;
}

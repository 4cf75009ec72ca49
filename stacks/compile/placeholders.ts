// Places resolved content on its management group: ALZ placeholders rewritten (location, the group of
// custom definitions = nearest ancestor that deploys them, current scope), role definition names as
// uuid v5 of group and name, and managed identities where the definition needs one.
import type { AssignmentItem, NamedItem } from './archetypes.ts';
import { bodyField } from './archetypes.ts';
import { isBuiltinPolicyId } from './builtins.ts';
import type { Hierarchy } from './hierarchy.ts';
import { authz, GUID, mgScope, parseCustomDefinitionId, stableUuid } from './ids.ts';
import type { Library } from './library/types.ts';
import type { Finding } from './model.ts';
import { roleDefinitionIds, type DefinitionIndex } from './policy-model.ts';
import type { EffectiveGroup } from './resolve.ts';

export interface PlacedAssignment {
  item: AssignmentItem;
  id: string;
  name: string;
  definitionId: string;
  body: { location?: string; identity?: Record<string, unknown>; properties: Record<string, unknown> & { parameters?: Record<string, { value: unknown }> } };
}

export interface PlacedDefinition {
  kind: 'policyDefinition' | 'policySetDefinition' | 'roleDefinition';
  /** ARM name (a uuid for role definitions). */
  name: string;
  /** The library name (roleName for role definitions). */
  libraryName: string;
  id: string;
  file: string;
  origin: NamedItem['origin'];
  properties: Record<string, unknown>;
  /** Custom definitions this one references (set members). */
  references: string[];
}

export interface PlacedGroup {
  eg: EffectiveGroup;
  scope: string;
  assignments: PlacedAssignment[];
  definitions: PlacedDefinition[];
}

type Kind = 'policyDefinition' | 'policySetDefinition';

export class Placer {
  constructor(
    private readonly lib: Library,
    private readonly h: Hierarchy,
    private readonly groups: Map<string, EffectiveGroup>,
    private readonly index: DefinitionIndex,
    private readonly findings: Finding[],
  ) {}

  /** The nearest group, from `mgId` up, whose effective archetype deploys the definition. */
  deployedAt(kind: Kind | 'roleDefinition', name: string, mgId: string): string | undefined {
    let cur = this.groups.get(mgId);
    while (cur) {
      const m = kind === 'policyDefinition' ? cur.content.policyDefinitions : kind === 'policySetDefinition' ? cur.content.policySetDefinitions : cur.content.roleDefinitions;
      if (m.has(name)) return cur.group.id;
      cur = this.groups.get(cur.group.parentId);
    }
    return undefined;
  }

  place(eg: EffectiveGroup): PlacedGroup {
    const scope = mgScope(eg.group.id);
    const definitions: PlacedDefinition[] = [];
    for (const [name, item] of eg.content.policyDefinitions) {
      const src = this.lib.policyDefinitions.get(name)!;
      const properties = this.substitute({ ...src.value.properties, policyType: 'Custom' }, scope) as Record<string, unknown>;
      definitions.push({ kind: 'policyDefinition', name, libraryName: name, id: authz(scope, 'policyDefinitions', name), file: src.file, origin: item.origin, properties, references: [] });
    }
    for (const [name, item] of eg.content.policySetDefinitions) {
      const src = this.lib.policySetDefinitions.get(name)!;
      const properties = this.substitute({ ...src.value.properties, policyType: 'Custom' }, scope) as Record<string, unknown> & { policyDefinitions: { policyDefinitionId: string }[] };
      const references: string[] = [];
      properties.policyDefinitions = properties.policyDefinitions.map((m, i) => {
        const custom = parseCustomDefinitionId(m.policyDefinitionId);
        if (!custom) return m;
        const id = this.customId(custom.kind, custom.name, eg.group.id, src.file, `properties.policyDefinitions[${i}].policyDefinitionId`);
        if (!id) return m;
        references.push(id);
        return { ...m, policyDefinitionId: id };
      });
      definitions.push({ kind: 'policySetDefinition', name, libraryName: name, id: authz(scope, 'policySetDefinitions', name), file: src.file, origin: item.origin, properties, references });
    }
    for (const [roleName, item] of eg.content.roleDefinitions) {
      const src = this.lib.roleDefinitions.get(roleName)!;
      const name = stableUuid(eg.group.id, roleName);
      const properties = this.substitute({ ...src.value.properties, type: 'CustomRole' }, scope) as Record<string, unknown>;
      properties.assignableScopes = [scope];
      definitions.push({ kind: 'roleDefinition', name, libraryName: roleName, id: authz(scope, 'roleDefinitions', name), file: src.file, origin: item.origin, properties, references: [] });
    }
    const assignments: PlacedAssignment[] = [];
    for (const item of eg.content.assignments.values()) {
      const placed = this.placeAssignment(item, eg.group.id, scope);
      if (placed) assignments.push(placed);
    }
    return { eg, scope, assignments, definitions };
  }

  /** The id of a custom definition at the nearest group that deploys it, or a finding. */
  private customId(kind: Kind, name: string, mgId: string, file: string, path: string): string | undefined {
    const exists = kind === 'policyDefinition' ? this.lib.policyDefinitions.has(name) : this.lib.policySetDefinitions.has(name);
    const what = kind === 'policyDefinition' ? 'policy definition' : 'policy set definition';
    if (!exists) {
      this.findings.push({ severity: 'error', code: 'unknown-definition', file, path, message: `${what} "${name}" is not defined in any library` });
      return undefined;
    }
    const at = this.deployedAt(kind, name, mgId);
    if (!at) {
      this.findings.push({ severity: 'error', code: 'definition-out-of-hierarchy', file, path, message: `${what} "${name}" used at management group "${mgId}" is not deployed there or at any ancestor; add it to an archetype of "${mgId}" or a parent` });
      return undefined;
    }
    return authz(mgScope(at), kind === 'policyDefinition' ? 'policyDefinitions' : 'policySetDefinitions', name);
  }

  private definitionId(item: AssignmentItem, mgId: string): string | undefined {
    const field = bodyField(item.bodyAt, 'policyDefinitionId');
    const ref = item.definitionRef ?? item.body.properties.policyDefinitionId;
    if (ref.startsWith('/')) {
      const custom = parseCustomDefinitionId(ref);
      if (custom) return this.customId(custom.kind, custom.name, mgId, item.bodyAt.file, field);
      if (!isBuiltinPolicyId(ref)) {
        this.findings.push({ severity: 'error', code: 'unknown-definition', file: item.bodyAt.file, path: field, message: `"${ref}" is not a policy or policy set definition id` });
        return undefined;
      }
      return ref;
    }
    if (GUID.test(ref)) {
      const set = `/providers/Microsoft.Authorization/policySetDefinitions/${ref}`;
      return this.index.builtins.get(set) ? set : `/providers/Microsoft.Authorization/policyDefinitions/${ref}`;
    }
    const isSet = this.lib.policySetDefinitions.has(ref);
    const isDef = this.lib.policyDefinitions.has(ref);
    if (isSet && isDef) {
      this.findings.push({ severity: 'error', code: 'ambiguous-definition', file: item.bodyAt.file, path: field, message: `"${ref}" names both a policy definition and a policy set definition; use the full id` });
      return undefined;
    }
    if (!isSet && !isDef) {
      this.findings.push({ severity: 'error', code: 'unknown-definition', file: item.bodyAt.file, path: field, message: `"${ref}" is not a policy or policy set definition in any library, nor a built-in GUID` });
      return undefined;
    }
    return this.customId(isSet ? 'policySetDefinition' : 'policyDefinition', ref, mgId, item.bodyAt.file, field);
  }

  private placeAssignment(item: AssignmentItem, mgId: string, scope: string): PlacedAssignment | undefined {
    const definitionId = this.definitionId(item, mgId);
    if (!definitionId) return undefined;
    const src = item.body;
    const properties: PlacedAssignment['body']['properties'] = this.substitute({ ...src.properties, policyDefinitionId: definitionId }, scope) as PlacedAssignment['body']['properties'];
    delete properties.scope;
    let identity = src.identity as Record<string, unknown> | undefined;
    if (item.definitionRef !== undefined) {
      // Nexus archetypes: a managed identity when asked for, or when the definition remediates.
      const def = this.index.lookup(definitionId);
      const wants = item.identity ?? (def && roleDefinitionIds(def, this.index).length > 0 ? 'SystemAssigned' : 'None');
      identity = wants === 'SystemAssigned' ? { type: 'SystemAssigned' } : undefined;
    }
    if (identity && String(identity.type) === 'None') identity = undefined;
    const body: PlacedAssignment['body'] = { properties };
    if (identity) {
      body.identity = identity;
      body.location = this.substitute(src.location ?? this.h.location, scope) as string;
    }
    return { item, id: authz(scope, 'policyAssignments', item.name), name: item.name, definitionId, body };
  }

  /** Rewrites the string placeholders of the ALZ library anywhere inside a value. */
  substitute(value: unknown, scope: string): unknown {
    const text = JSON.stringify(value);
    if (!text.includes('${')) return JSON.parse(text);
    return JSON.parse(text.replaceAll('${default_location}', this.h.location).replaceAll('${current_scope_resource_id}', scope));
  }
}

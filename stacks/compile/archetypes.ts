// Resolves one archetype into its content: ALZ definitions, ALZ overrides (`*_to_add`, `*_to_remove`)
// and Nexus archetypes with transitive `inherits` and their overrides. Memoised; cycles become findings.
import type { Finding } from './model.ts';
import type { PolicyAssignmentFile } from './library/alz-schemas.ts';
import type { ArchetypeSource, Library } from './library/types.ts';
import type { NexusExemption, NexusPolicy, NexusRbac, NexusResource } from './library/nexus-schemas.ts';

export interface Origin {
  file: string;
  /** Field inside the file, e.g. `policy_assignments[3]` or `spec.policies[0]`. */
  path: string;
  /** The archetype that declares the item. */
  archetype: string;
  /** Inheriting archetypes between the group's archetype and the declaring one, outermost first (empty when declared directly). */
  via: string[];
  /** Set when an inheriting archetype changed the item's parameters or settings. */
  overriddenBy?: { file: string; path: string };
}

/** Where an assignment's body is written: an ALZ assignment file (ARM shape) or a Nexus archetype. */
export interface BodyAt {
  file: string;
  /** Prefix of the body inside the file: '' for ARM files, `spec.policies[i]` for Nexus. */
  path: string;
  style: 'arm' | 'nexus';
}

/** The field path of a body property in its file, e.g. `properties.parameters.effect`. */
export function bodyField(at: BodyAt, field: 'parameters' | 'policyDefinitionId' | 'name' | 'notScopes' | 'enforcementMode', key?: string): string {
  const base = at.style === 'arm' ? (field === 'name' ? 'name' : `properties.${field}`) : `${at.path}.${field === 'policyDefinitionId' ? 'definition' : field}`;
  return key ? `${base}.${key}` : base;
}

/** A policy assignment in ARM's shape, before it is placed on a management group. */
export type AssignmentBody = PolicyAssignmentFile;

export interface AssignmentItem {
  name: string;
  body: AssignmentBody;
  /** A Nexus `definition` (library name, built-in GUID or id), turned into policyDefinitionId on placement. */
  definitionRef?: string;
  /** Nexus: explicit identity choice; undefined means "as the definition needs". */
  identity?: 'SystemAssigned' | 'None';
  /** Parameters (lowercased) a Nexus archetype set explicitly: policy default values do not replace them. */
  explicitParameters?: ReadonlySet<string>;
  bodyAt: BodyAt;
  origin: Origin;
}

export interface NamedItem {
  name: string;
  origin: Origin;
}
export interface RbacItem extends NamedItem {
  spec: NexusRbac;
}
export interface ResourceItem extends NamedItem {
  spec: NexusResource;
}
export interface ExemptionItem extends NamedItem {
  spec: NexusExemption;
}

export interface ArchetypeContent {
  assignments: Map<string, AssignmentItem>;
  policyDefinitions: Map<string, NamedItem>;
  policySetDefinitions: Map<string, NamedItem>;
  roleDefinitions: Map<string, NamedItem>;
  rbac: Map<string, RbacItem>;
  resources: Map<string, ResourceItem>;
  exemptions: Map<string, ExemptionItem>;
}

export function emptyContent(): ArchetypeContent {
  return {
    assignments: new Map(),
    policyDefinitions: new Map(),
    policySetDefinitions: new Map(),
    roleDefinitions: new Map(),
    rbac: new Map(),
    resources: new Map(),
    exemptions: new Map(),
  };
}

function inheritedCopy(c: ArchetypeContent, through: string): ArchetypeContent {
  const via = <T extends NamedItem>(m: Map<string, T>): Map<string, T> =>
    new Map([...m].map(([k, v]) => [k, { ...v, origin: { ...v.origin, via: [through, ...v.origin.via] } }]));
  return {
    assignments: via(c.assignments),
    policyDefinitions: via(c.policyDefinitions),
    policySetDefinitions: via(c.policySetDefinitions),
    roleDefinitions: via(c.roleDefinitions),
    rbac: via(c.rbac),
    resources: via(c.resources),
    exemptions: via(c.exemptions),
  };
}

export class ArchetypeResolver {
  private readonly done = new Map<string, ArchetypeContent>();
  private readonly inProgress: string[] = [];

  constructor(
    private readonly lib: Library,
    private readonly findings: Finding[],
  ) {}

  has(name: string): boolean {
    return this.lib.archetypes.has(name);
  }

  /** The content of an archetype; undefined when it is unknown or part of a cycle (a finding is recorded). */
  resolve(name: string, from?: { file: string; path: string }): ArchetypeContent | undefined {
    const cached = this.done.get(name);
    if (cached) return cached;
    const src = this.lib.archetypes.get(name);
    if (!src) {
      this.findings.push({ severity: 'error', code: 'unknown-archetype', file: from?.file ?? '', path: from?.path ?? '', message: `unknown archetype "${name}"` });
      return undefined;
    }
    const at = this.inProgress.indexOf(name);
    if (at >= 0) {
      const chain = [...this.inProgress.slice(at), name].join(' -> ');
      this.findings.push({ severity: 'error', code: 'inheritance-cycle', file: from?.file ?? src.file, path: from?.path ?? '', message: `inheritance cycle: ${chain}` });
      return undefined;
    }
    this.inProgress.push(name);
    try {
      const content = this.build(src);
      this.done.set(name, content);
      return content;
    } finally {
      this.inProgress.pop();
    }
  }

  private build(src: ArchetypeSource): ArchetypeContent {
    if (src.kind === 'alz') return this.alzDefinition(src);
    if (src.kind === 'alz-override') return this.alzOverride(src);
    return this.nexus(src);
  }

  private origin(src: ArchetypeSource, path: string): Origin {
    return { file: src.file, path, archetype: src.name, via: [] };
  }

  private libraryAssignment(name: string, src: ArchetypeSource, path: string): AssignmentItem | undefined {
    const a = this.lib.policyAssignments.get(name);
    if (!a) {
      this.findings.push({ severity: 'error', code: 'unknown-policy-assignment', file: src.file, path, message: `archetype "${src.name}" names policy assignment "${name}", which no library defines` });
      return undefined;
    }
    return { name, body: a.value, bodyAt: { file: a.file, path: '', style: 'arm' }, origin: this.origin(src, path) };
  }

  private checkedNames(
    names: string[],
    known: Map<string, unknown>,
    what: string,
    code: string,
    src: ArchetypeSource,
    field: string,
    into: Map<string, NamedItem>,
  ): void {
    names.forEach((n, i) => {
      const path = `${field}[${i}]`;
      if (!known.has(n)) {
        this.findings.push({ severity: 'error', code, file: src.file, path, message: `archetype "${src.name}" names ${what} "${n}", which no library defines` });
        return;
      }
      if (into.has(n) && into.get(n)!.origin.file === src.file && into.get(n)!.origin.via.length === 0) {
        this.findings.push({ severity: 'error', code: 'duplicate-name', file: src.file, path, message: `${what} "${n}" is listed twice` });
      }
      into.set(n, { name: n, origin: this.origin(src, path) });
    });
  }

  private alzDefinition(src: Extract<ArchetypeSource, { kind: 'alz' }>): ArchetypeContent {
    const c = emptyContent();
    const v = src.value;
    v.policy_assignments.forEach((n, i) => {
      const path = `policy_assignments[${i}]`;
      if (c.assignments.has(n)) {
        this.findings.push({ severity: 'error', code: 'duplicate-name', file: src.file, path, message: `policy assignment "${n}" is listed twice` });
        return;
      }
      const item = this.libraryAssignment(n, src, path);
      if (item) c.assignments.set(n, item);
    });
    this.checkedNames(v.policy_definitions, this.lib.policyDefinitions, 'policy definition', 'unknown-policy-definition', src, 'policy_definitions', c.policyDefinitions);
    this.checkedNames(v.policy_set_definitions, this.lib.policySetDefinitions, 'policy set definition', 'unknown-policy-set-definition', src, 'policy_set_definitions', c.policySetDefinitions);
    this.checkedNames(v.role_definitions, this.lib.roleDefinitions, 'role definition', 'unknown-role-definition', src, 'role_definitions', c.roleDefinitions);
    return c;
  }

  private alzOverride(src: Extract<ArchetypeSource, { kind: 'alz-override' }>): ArchetypeContent {
    const v = src.value;
    const base = this.resolve(v.base_archetype, { file: src.file, path: 'base_archetype' });
    const c = base ? inheritedCopy(base, src.name) : emptyContent();
    const remove = (m: Map<string, unknown>, names: string[], field: string, what: string) =>
      names.forEach((n, i) => {
        if (!m.delete(n)) {
          this.findings.push({ severity: 'warning', code: 'override-removes-nothing', file: src.file, path: `${field}[${i}]`, message: `${what} "${n}" is not in base archetype "${v.base_archetype}"` });
        }
      });
    remove(c.assignments, v.policy_assignments_to_remove, 'policy_assignments_to_remove', 'policy assignment');
    remove(c.policyDefinitions, v.policy_definitions_to_remove, 'policy_definitions_to_remove', 'policy definition');
    remove(c.policySetDefinitions, v.policy_set_definitions_to_remove, 'policy_set_definitions_to_remove', 'policy set definition');
    remove(c.roleDefinitions, v.role_definitions_to_remove, 'role_definitions_to_remove', 'role definition');
    v.policy_assignments_to_add.forEach((n, i) => {
      const item = this.libraryAssignment(n, src, `policy_assignments_to_add[${i}]`);
      if (item) c.assignments.set(n, item);
    });
    this.checkedNames(v.policy_definitions_to_add, this.lib.policyDefinitions, 'policy definition', 'unknown-policy-definition', src, 'policy_definitions_to_add', c.policyDefinitions);
    this.checkedNames(v.policy_set_definitions_to_add, this.lib.policySetDefinitions, 'policy set definition', 'unknown-policy-set-definition', src, 'policy_set_definitions_to_add', c.policySetDefinitions);
    this.checkedNames(v.role_definitions_to_add, this.lib.roleDefinitions, 'role definition', 'unknown-role-definition', src, 'role_definitions_to_add', c.roleDefinitions);
    return c;
  }

  private nexus(src: Extract<ArchetypeSource, { kind: 'nexus' }>): ArchetypeContent {
    const spec = src.value.spec;
    const c = emptyContent();
    spec.inherits.forEach((inh, i) => {
      const field = `spec.inherits[${i}]`;
      const base = this.resolve(inh.name, { file: src.file, path: `${field}.name` });
      if (!base) return;
      const got = inheritedCopy(base, src.name);
      if (inh.overrides) this.applyOverrides(got, inh.overrides, src, inh.name, `${field}.overrides`);
      unite(c, got, src, field, this.findings);
    });
    // Own items replace inherited ones of the same name; duplicates within the file are errors.
    const own = (kind: string, i: number, name: string, seen: Set<string>) => {
      if (seen.has(name)) {
        this.findings.push({ severity: 'error', code: 'duplicate-name', file: src.file, path: `spec.${kind}[${i}].name`, message: `${kind} item "${name}" appears twice in archetype "${src.name}"` });
        return false;
      }
      seen.add(name);
      return true;
    };
    const seenPolicies = new Set<string>();
    spec.policies.forEach((p, i) => {
      if (!own('policies', i, p.name, seenPolicies)) return;
      c.assignments.set(p.name, {
        name: p.name,
        body: nexusAssignmentBody(p),
        definitionRef: p.definition,
        identity: p.identity,
        explicitParameters: new Set(Object.keys(p.parameters).map((k) => k.toLowerCase())),
        bodyAt: { file: src.file, path: `spec.policies[${i}]`, style: 'nexus' },
        origin: this.origin(src, `spec.policies[${i}]`),
      });
    });
    this.checkedNames(spec.policyDefinitions, this.lib.policyDefinitions, 'policy definition', 'unknown-policy-definition', src, 'spec.policyDefinitions', c.policyDefinitions);
    this.checkedNames(spec.policySetDefinitions, this.lib.policySetDefinitions, 'policy set definition', 'unknown-policy-set-definition', src, 'spec.policySetDefinitions', c.policySetDefinitions);
    this.checkedNames(spec.roleDefinitions, this.lib.roleDefinitions, 'role definition', 'unknown-role-definition', src, 'spec.roleDefinitions', c.roleDefinitions);
    const seenRbac = new Set<string>();
    spec.rbac.forEach((r, i) => {
      const name = r.name ?? r.role;
      if (!own('rbac', i, name, seenRbac)) return;
      c.rbac.set(name, { name, spec: r, origin: this.origin(src, `spec.rbac[${i}]`) });
    });
    const seenRes = new Set<string>();
    spec.resources.forEach((r, i) => {
      if (!own('resources', i, r.name, seenRes)) return;
      c.resources.set(r.name, { name: r.name, spec: r, origin: this.origin(src, `spec.resources[${i}]`) });
    });
    const seenEx = new Set<string>();
    spec.exemptions.forEach((e, i) => {
      if (!own('exemptions', i, e.name, seenEx)) return;
      c.exemptions.set(e.name, { name: e.name, spec: e, origin: this.origin(src, `spec.exemptions[${i}]`) });
    });
    return c;
  }

  private applyOverrides(
    c: ArchetypeContent,
    o: NonNullable<Extract<ArchetypeSource, { kind: 'nexus' }>['value']['spec']['inherits'][number]['overrides']>,
    src: ArchetypeSource,
    base: string,
    field: string,
  ): void {
    for (const [name, change] of Object.entries(o.policies)) {
      const item = c.assignments.get(name);
      if (!item) {
        this.findings.push({ severity: 'error', code: 'unknown-override', file: src.file, path: `${field}.policies.${name}`, message: `archetype "${base}" has no policy assignment "${name}" to override` });
        continue;
      }
      const body: AssignmentBody = structuredClone(item.body);
      const props = body.properties;
      let explicitParameters = item.explicitParameters;
      if (change.parameters) {
        props.parameters = { ...(props.parameters ?? {}) };
        for (const [k, v] of Object.entries(change.parameters)) props.parameters[k] = { value: v };
        explicitParameters = new Set([...(item.explicitParameters ?? []), ...Object.keys(change.parameters).map((k) => k.toLowerCase())]);
      }
      if (change.enforcementMode) props.enforcementMode = change.enforcementMode;
      if (change.nonComplianceMessages) props.nonComplianceMessages = change.nonComplianceMessages;
      if (change.notScopes) props.notScopes = change.notScopes;
      c.assignments.set(name, { ...item, body, explicitParameters, origin: { ...item.origin, overriddenBy: { file: src.file, path: `${field}.policies.${name}` } } });
    }
    const rm = (m: Map<string, unknown>, names: string[], key: string) =>
      names.forEach((n, i) => {
        if (!m.delete(n)) {
          this.findings.push({ severity: 'error', code: 'unknown-override', file: src.file, path: `${field}.remove.${key}[${i}]`, message: `archetype "${base}" has no ${key} item "${n}" to remove` });
        }
      });
    rm(c.assignments, o.remove.policies, 'policies');
    rm(c.policyDefinitions, o.remove.policyDefinitions, 'policyDefinitions');
    rm(c.policySetDefinitions, o.remove.policySetDefinitions, 'policySetDefinitions');
    rm(c.roleDefinitions, o.remove.roleDefinitions, 'roleDefinitions');
    rm(c.rbac, o.remove.rbac, 'rbac');
    rm(c.resources, o.remove.resources, 'resources');
    rm(c.exemptions, o.remove.exemptions, 'exemptions');
  }
}

function nexusAssignmentBody(p: NexusPolicy): AssignmentBody {
  const parameters: Record<string, { value: unknown }> = {};
  for (const [k, v] of Object.entries(p.parameters)) parameters[k] = { value: v };
  return {
    name: p.name,
    properties: {
      displayName: p.displayName ?? p.name,
      ...(p.description ? { description: p.description } : {}),
      policyDefinitionId: '',
      parameters,
      enforcementMode: p.enforcementMode,
      nonComplianceMessages: p.nonComplianceMessages,
      notScopes: p.notScopes,
    },
  };
}

/**
 * Adds `from` into `into`. The same item reached twice from one declaration is fine; two different
 * items with one name are a conflict.
 */
export function unite(into: ArchetypeContent, from: ArchetypeContent, at: { file: string }, path: string, findings: Finding[]): void {
  const merge = <T extends NamedItem>(a: Map<string, T>, b: Map<string, T>, what: string, same: (x: T, y: T) => boolean) => {
    for (const [k, v] of b) {
      const prior = a.get(k);
      if (prior && !same(prior, v)) {
        findings.push({
          severity: 'error',
          code: 'duplicate-name',
          file: at.file,
          path,
          message: `${what} "${k}" comes from both archetype "${prior.origin.archetype}" (${prior.origin.file}) and "${v.origin.archetype}" (${v.origin.file}) with different content`,
        });
        continue;
      }
      if (!prior) a.set(k, v);
    }
  };
  const sameDecl = (x: NamedItem, y: NamedItem) => x.origin.file === y.origin.file && x.origin.path === y.origin.path;
  // A Nexus assignment's policyDefinitionId is '' until placement: its definition and identity count too.
  const sameAssignment = (x: AssignmentItem, y: AssignmentItem) =>
    x.definitionRef === y.definitionRef && x.identity === y.identity && (x.body === y.body || JSON.stringify(x.body) === JSON.stringify(y.body));
  merge(into.assignments, from.assignments, 'policy assignment', sameAssignment);
  merge(into.policyDefinitions, from.policyDefinitions, 'policy definition', () => true);
  merge(into.policySetDefinitions, from.policySetDefinitions, 'policy set definition', () => true);
  merge(into.roleDefinitions, from.roleDefinitions, 'role definition', () => true);
  merge(into.rbac, from.rbac, 'rbac item', (x, y) => sameDecl(x, y) || JSON.stringify(x.spec) === JSON.stringify(y.spec));
  merge(into.resources, from.resources, 'resource', (x, y) => sameDecl(x, y) || JSON.stringify(x.spec) === JSON.stringify(y.spec));
  merge(into.exemptions, from.exemptions, 'exemption', (x, y) => sameDecl(x, y) || JSON.stringify(x.spec) === JSON.stringify(y.spec));
}

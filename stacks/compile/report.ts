// What the CLI (and the API) show about a compilation: the compile summary and one group's effective
// archetype with where each item came from.
import type { Compilation } from './index.ts';
import type { Finding } from './model.ts';

export interface CompileSummary {
  managementGroups: {
    id: string;
    parentId: string;
    archetypes: string[];
    policyAssignments: string[];
    policyDefinitions: number;
    policySetDefinitions: number;
    roleDefinitions: number;
    roleAssignments: number;
  }[];
  stacks: { name: string; resources: number }[];
  findings: { severity: Finding['severity']; file: string; path: string; message: string }[];
}

export function compileSummary(c: Compilation): CompileSummary {
  const stackOf = new Map(c.state.resources.map((r) => [r.id, r]));
  return {
    managementGroups: c.hierarchy.groups.map((g) => {
      const stack = c.state.stacks.find((s) => s.name === g.id);
      const kinds = (stack?.resourceIds ?? []).map((id) => stackOf.get(id)!.kind);
      const n = (k: string) => kinds.filter((x) => x === k).length;
      return {
        id: g.id,
        parentId: g.parentId,
        archetypes: g.archetypes,
        policyAssignments: (stack?.resourceIds ?? []).filter((id) => stackOf.get(id)!.kind === 'policyAssignment').map((id) => stackOf.get(id)!.name),
        policyDefinitions: n('policyDefinition'),
        policySetDefinitions: n('policySetDefinition'),
        roleDefinitions: n('roleDefinition'),
        roleAssignments: n('roleAssignment'),
      };
    }),
    stacks: c.state.stacks.map((s) => ({ name: s.name, resources: s.resourceIds.length })),
    findings: c.state.findings.map((f) => ({ severity: f.severity, file: f.file, path: f.path, message: f.message })),
  };
}

export interface ItemOrigin {
  name: string;
  /** The archetype that declares the item. */
  archetype: string;
  /** Archetypes it was inherited through, from the group's own archetype down. */
  via: string[];
  file: string;
  path: string;
  overriddenBy?: { file: string; path: string };
}

export interface ResolveReport {
  managementGroup: { id: string; displayName: string; parentId: string; exists: boolean; archetypes: string[]; file: string; path: string };
  policyAssignments: (ItemOrigin & { policyDefinitionId: string; enforcementMode: string; identity: boolean; parameters: Record<string, unknown>; definedIn: string })[];
  policyDefinitions: ItemOrigin[];
  policySetDefinitions: ItemOrigin[];
  roleDefinitions: (ItemOrigin & { roleDefinitionName: string })[];
  rbac: (ItemOrigin & { role: string })[];
  resources: (ItemOrigin & { type: string })[];
  /** The archetypes' exemptions as declared (the compiled ones are in the DesiredState). */
  exemptions: (ItemOrigin & { policy: string; category: string; expiresOn?: string; scope: string })[];
  subscriptions: string[];
  findings: Finding[];
}

export function resolveReport(c: Compilation, mgId: string): ResolveReport | undefined {
  const pg = c.placed.find((p) => p.eg.group.id === mgId);
  if (!pg) return undefined;
  const g = pg.eg.group;
  const origin = (name: string, o: { archetype: string; via: string[]; file: string; path: string; overriddenBy?: { file: string; path: string } }): ItemOrigin => ({
    name,
    archetype: o.archetype,
    via: o.via,
    file: o.file,
    path: o.path,
    ...(o.overriddenBy ? { overriddenBy: o.overriddenBy } : {}),
  });
  const defs = (kind: string) => pg.definitions.filter((d) => d.kind === kind);
  return {
    managementGroup: { id: g.id, displayName: g.displayName, parentId: g.parentId, exists: g.exists, archetypes: g.archetypes, file: g.file, path: g.path },
    policyAssignments: pg.assignments.map((a) => ({
      ...origin(a.name, a.item.origin),
      policyDefinitionId: a.definitionId,
      enforcementMode: String(a.body.properties.enforcementMode ?? 'Default'),
      identity: !!a.body.identity,
      parameters: Object.fromEntries(Object.entries(a.body.properties.parameters ?? {}).map(([k, v]) => [k, v.value])),
      definedIn: a.item.bodyAt.file,
    })),
    policyDefinitions: defs('policyDefinition').map((d) => origin(d.name, d.origin)),
    policySetDefinitions: defs('policySetDefinition').map((d) => origin(d.name, d.origin)),
    roleDefinitions: defs('roleDefinition').map((d) => ({ ...origin(d.libraryName, d.origin), roleDefinitionName: d.name })),
    rbac: [...pg.eg.content.rbac.values()].map((r) => ({ ...origin(r.name, r.origin), role: r.spec.role })),
    resources: [...pg.eg.content.resources.values()].map((r) => ({ ...origin(r.name, r.origin), type: r.spec.type })),
    exemptions: [...pg.eg.content.exemptions.values()].map((e) => ({
      ...origin(e.name, e.origin),
      policy: e.spec.policy,
      category: e.spec.category,
      ...(e.spec.expiresOn !== undefined ? { expiresOn: e.spec.expiresOn instanceof Date ? e.spec.expiresOn.toISOString() : e.spec.expiresOn } : {}),
      scope: e.spec.scope ?? 'group',
    })),
    subscriptions: c.hierarchy.placements.filter((p) => p.managementGroupId === mgId).map((p) => p.subscriptionId),
    // Findings about this group: raised at its declaration, or naming it.
    findings: c.state.findings.filter((f) => (f.file === g.file && f.path.startsWith(g.path)) || f.message.includes(`"${mgId}"`)),
  };
}

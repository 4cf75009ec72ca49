// The effective archetype of every management group: its archetypes united, then the architecture's
// policy default values written into the assignments that map them (except parameters that a Nexus
// archetype set explicitly: those win).
import { ArchetypeResolver, emptyContent, unite, type ArchetypeContent } from './archetypes.ts';
import type { GroupNode, Hierarchy } from './hierarchy.ts';
import type { Library } from './library/types.ts';
import type { Finding } from './model.ts';

export interface EffectiveGroup {
  group: GroupNode;
  content: ArchetypeContent;
}

export function resolveGroups(lib: Library, h: Hierarchy, findings: Finding[]): Map<string, EffectiveGroup> {
  const resolver = new ArchetypeResolver(lib, findings);
  const out = new Map<string, EffectiveGroup>();
  for (const g of h.groups) {
    const content = emptyContent();
    g.archetypes.forEach((name, i) => {
      const at = { file: g.file, path: `${g.path}.archetypes[${i}]` };
      const c = resolver.resolve(name, at);
      if (c) unite(content, c, at, at.path, findings);
    });
    out.set(g.id, { group: g, content });
  }
  applyDefaults(lib, h, out, findings);
  return out;
}

function applyDefaults(lib: Library, h: Hierarchy, groups: Map<string, EffectiveGroup>, findings: Finding[]): void {
  for (const [name, dv] of h.defaults) {
    const mapping = lib.defaults.get(name);
    if (!mapping) {
      const known = [...lib.defaults.keys()].join(', ') || 'none';
      findings.push({ severity: 'error', code: 'unknown-policy-default', file: dv.file, path: dv.path, message: `unknown policy default "${name}" (known: ${known})` });
      continue;
    }
    for (const target of mapping.targets) {
      for (const eg of groups.values()) {
        const item = eg.content.assignments.get(target.assignment);
        if (!item) continue;
        const body = structuredClone(item.body);
        body.properties.parameters = { ...(body.properties.parameters ?? {}) };
        for (const p of target.parameters) {
          if (item.explicitParameters?.has(p.toLowerCase())) continue;
          body.properties.parameters[p] = { value: dv.value };
        }
        eg.content.assignments.set(target.assignment, { ...item, body });
      }
    }
  }
}

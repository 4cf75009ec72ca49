// Preview and deprecated policies are allowed but flagged: assigned directly, or members of a deployed set.
import { bodyField } from '../archetypes.ts';
import { lifecycle as stage } from '../policy-model.ts';
import type { ValidationInput } from './index.ts';

export function lifecycle({ placed, index, findings }: ValidationInput): void {
  const seen = new Set<string>();
  const once = (key: string) => (seen.has(key) ? false : (seen.add(key), true));
  for (const pg of placed) {
    for (const a of pg.assignments) {
      const def = index.lookup(a.definitionId);
      const s = def && stage(def);
      if (s && once(`${a.item.bodyAt.file}|${a.definitionId}`)) {
        findings.push({ severity: 'warning', code: `${s}-policy`, file: a.item.bodyAt.file, path: bodyField(a.item.bodyAt, 'policyDefinitionId'), message: `assignment "${a.name}" uses ${s} definition "${def.properties.displayName ?? def.name}"` });
      }
    }
    for (const d of pg.definitions) {
      if (d.kind !== 'policySetDefinition') continue;
      const members = (d.properties.policyDefinitions ?? []) as { policyDefinitionId: string }[];
      members.forEach((m, i) => {
        const def = index.lookup(m.policyDefinitionId);
        const s = def && stage(def);
        if (s && once(`${d.file}|${i}`)) {
          findings.push({ severity: 'warning', code: `${s}-policy`, file: d.file, path: `properties.policyDefinitions[${i}].policyDefinitionId`, message: `set "${d.name}" includes ${s} definition "${def.properties.displayName ?? def.name}"` });
        }
      });
    }
  }
}

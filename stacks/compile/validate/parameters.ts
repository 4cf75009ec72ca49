// Parameters an assignment passes must be declared by its definition, required ones must be given,
// and literal values must be among the allowed values. The same for the members of a set definition.
// A built-in that is not in the cache cannot be checked: a warning, never an error.
import { bodyField } from '../archetypes.ts';
import type { Finding } from '../model.ts';
import type { DefinitionRecord } from '../policy-model.ts';
import type { ValidationInput } from './index.ts';

const EXPRESSION = /^\[[^[]/;

export function checkValues(
  def: DefinitionRecord,
  given: Record<string, { value: unknown }>,
  at: { file: string; field: (param?: string) => string },
  what: string,
  findings: Finding[],
): void {
  const declared = def.properties.parameters ?? {};
  // ARM parameter names are case-insensitive.
  const byLower = new Map(Object.entries(declared).map(([k, p]) => [k.toLowerCase(), p]));
  const givenLower = new Set(Object.keys(given).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(given)) {
    const p = byLower.get(k.toLowerCase());
    if (!p) {
      // A built-in comes from a cache that may lag Azure: its copy missing a parameter is only a warning.
      const version = def.builtin ? ` (cached version ${def.properties.version ?? 'unknown'}; the live built-in may differ)` : '';
      findings.push({
        severity: def.builtin ? 'warning' : 'error',
        code: 'unknown-parameter',
        file: at.file,
        path: at.field(k),
        message: `${what}: parameter "${k}" is not declared by ${def.kind === 'policySetDefinition' ? 'policy set definition' : 'policy definition'} "${def.properties.displayName ?? def.name}"${version} (declared: ${Object.keys(declared).join(', ') || 'none'})`,
      });
      continue;
    }
    const value = v?.value;
    if (p.allowedValues && !(typeof value === 'string' && EXPRESSION.test(value))) {
      const ok = p.allowedValues.some((a) => JSON.stringify(a).toLowerCase() === JSON.stringify(value).toLowerCase());
      if (!ok && !Array.isArray(value)) {
        findings.push({ severity: 'error', code: 'parameter-not-allowed', file: at.file, path: at.field(k), message: `${what}: value ${JSON.stringify(value)} of parameter "${k}" is not one of ${JSON.stringify(p.allowedValues)}` });
      }
    }
  }
  for (const [k, p] of Object.entries(declared)) {
    if (!('defaultValue' in p) && !givenLower.has(k.toLowerCase())) {
      findings.push({ severity: 'error', code: 'missing-parameter', file: at.file, path: at.field(), message: `${what}: required parameter "${k}" of "${def.properties.displayName ?? def.name}" has no value and no default` });
    }
  }
}

export function parameters({ placed, index, findings }: ValidationInput): void {
  const unchecked = new Set<string>();
  const setsChecked = new Set<string>();
  for (const pg of placed) {
    for (const a of pg.assignments) {
      const def = index.lookup(a.definitionId);
      if (!def) {
        const key = `${a.item.bodyAt.file}|${a.definitionId}`;
        if (!unchecked.has(key)) {
          unchecked.add(key);
          findings.push({ severity: 'warning', code: 'builtin-not-cached', file: a.item.bodyAt.file, path: bodyField(a.item.bodyAt, 'policyDefinitionId'), message: `built-in ${a.definitionId} is not in the built-in policy cache; its parameters and roles are not checked` });
        }
        continue;
      }
      checkValues(def, a.body.properties.parameters ?? {}, { file: a.item.bodyAt.file, field: (k) => bodyField(a.item.bodyAt, 'parameters', k) }, `assignment "${a.name}" at "${pg.eg.group.id}"`, findings);
    }
    for (const d of pg.definitions) {
      if (d.kind !== 'policySetDefinition' || setsChecked.has(d.file)) continue;
      setsChecked.add(d.file);
      const members = (d.properties.policyDefinitions ?? []) as { policyDefinitionId: string; parameters?: Record<string, { value: unknown }> }[];
      members.forEach((m, i) => {
        const def = index.lookup(m.policyDefinitionId);
        if (!def) {
          findings.push({ severity: 'warning', code: 'builtin-not-cached', file: d.file, path: `properties.policyDefinitions[${i}].policyDefinitionId`, message: `built-in ${m.policyDefinitionId} is not in the built-in policy cache; its parameters are not checked` });
          return;
        }
        checkValues(def, m.parameters ?? {}, { file: d.file, field: (k) => `properties.policyDefinitions[${i}].parameters${k ? `.${k}` : ''}` }, `set "${d.name}" member ${i}`, findings);
      });
    }
  }
}

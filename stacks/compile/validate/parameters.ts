// Parameters an assignment passes must be declared by its definition, required ones must be given,
// and literal values must be among the allowed values. The same for the members of a set definition.
// A built-in that is not in the cache cannot be checked: a warning, never an error.
import { bodyField } from '../archetypes.ts';
import { isBuiltinPolicyId } from '../builtins.ts';
import { parseCustomDefinitionId } from '../ids.ts';
import type { Finding } from '../model.ts';
import type { DefinitionRecord } from '../policy-model.ts';
import type { ValidationInput } from './index.ts';

const EXPRESSION = /^\[[^[]/;

const isExpression = (v: unknown) => typeof v === 'string' && EXPRESSION.test(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a).toLowerCase() === JSON.stringify(b).toLowerCase();

/**
 * What in a literal value allowedValues refuses, or undefined. For an array value ARM checks each
 * element (unless the allowed values are arrays themselves and the whole value is one of them).
 */
function notAllowed(allowed: unknown[] | undefined, value: unknown): string | undefined {
  if (!allowed || isExpression(value) || allowed.some((a) => same(a, value))) return undefined;
  if (!Array.isArray(value)) return `value ${JSON.stringify(value)}`;
  const bad = value.filter((e) => !isExpression(e) && !allowed.some((a) => same(a, e)));
  return bad.length ? `${bad.length === 1 ? 'element' : 'elements'} ${bad.map((e) => JSON.stringify(e)).join(', ')}` : undefined;
}

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
    const bad = notAllowed(p.allowedValues, v?.value);
    if (bad) {
      findings.push({ severity: 'error', code: 'parameter-not-allowed', file: at.file, path: at.field(k), message: `${what}: ${bad} of parameter "${k}" is not one of ${JSON.stringify(p.allowedValues)}` });
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
        const field = `properties.policyDefinitions[${i}].policyDefinitionId`;
        if (!def) {
          if (isBuiltinPolicyId(m.policyDefinitionId)) {
            findings.push({ severity: 'warning', code: 'builtin-not-cached', file: d.file, path: field, message: `built-in ${m.policyDefinitionId} is not in the built-in policy cache; its parameters are not checked` });
          } else if (!parseCustomDefinitionId(m.policyDefinitionId)) {
            findings.push({ severity: 'error', code: 'unknown-definition', file: d.file, path: field, message: `set "${d.name}" member ${i}: "${m.policyDefinitionId}" is not a policy definition id` });
          }
          // A custom member that no library defines, or that is out of the hierarchy, is an error of placement already.
          return;
        }
        checkValues(def, m.parameters ?? {}, { file: d.file, field: (k) => `properties.policyDefinitions[${i}].parameters${k ? `.${k}` : ''}` }, `set "${d.name}" member ${i}`, findings);
      });
    }
  }
}

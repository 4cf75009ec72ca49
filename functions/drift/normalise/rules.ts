// Normalisation rules as data: the shipped default-rules.yaml, then the tenant's file (which adds
// rules, replaces a shipped rule of the same name, or turns one off with `enabled: false`).
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parsePattern, type Step } from './paths.ts';
import type { Active } from './active.ts';

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('./default-rules.yaml', import.meta.url));
const MAX_FILE_BYTES = 512 * 1024;
const MAX_DEPTH = 32;
const MAX_RULES = 2000;

const name = z.string().min(1).max(200);
const paths = z.array(z.string().min(1).max(500)).min(1).max(500);
const types = z.array(z.string().min(1).max(200)).min(1).max(100).optional();
const base = { name, types, enabled: z.boolean().optional(), description: z.string().max(2000).optional() };

const ruleSchema = z.discriminatedUnion('kind', [
  // Set by the service whatever was sent (provisioningState, etag, timestamps): never drift.
  // With `when`, only while the live object holding the property has `sibling` set to one of `in`
  // (the node count of an autoscaled pool).
  z.strictObject({ ...base, kind: z.literal('read-only'), paths, when: z.strictObject({ sibling: z.string().min(1).max(200), in: z.array(z.unknown()).min(1).max(50) }).optional() }),
  // Filled by the service inside an object the desired body describes (a rule's id or etag): noise
  // only when the desired body has the parent object but not the property.
  // `unset`: values the desired body sends to leave the choice to the service (osDiskSizeGB: 0).
  z.strictObject({ ...base, kind: z.literal('server-set'), paths, unset: z.array(z.unknown()).min(1).max(20).optional() }),
  // An object holding `list` with one element equals the object holding `single` with that element
  // (a subnet's addressPrefixes: [x] is returned as addressPrefix: x).
  z.strictObject({ ...base, kind: z.literal('list-or-single'), paths, list: z.string().min(1).max(200), single: z.string().min(1).max(200) }),
  // Accepted on PUT, never returned by GET (secrets): absent in live is not drift.
  z.strictObject({ ...base, kind: z.literal('write-only'), paths }),
  z.strictObject({ ...base, kind: z.literal('case-insensitive'), paths }),
  // Ids compared from their last `/providers/` on (a role definition in tenant and subscription form).
  z.strictObject({ ...base, kind: z.literal('provider-relative-id'), paths }),
  // Any string starting with one of the prefixes compares case-insensitively.
  z.strictObject({ ...base, kind: z.literal('resource-id'), paths: paths.optional(), prefixes: z.array(z.string().min(1).max(100)).min(1).max(20) }),
  // Location names and display names (`West Europe` == `westeurope`).
  z.strictObject({ ...base, kind: z.literal('location'), paths }),
  // A value the service fills when the desired body leaves the property out.
  z.strictObject({ ...base, kind: z.literal('default'), defaults: z.array(z.strictObject({ path: z.string().min(1).max(500), value: z.unknown() })).min(1).max(500) }),
  // Empty containers (and, with `of`, empty strings) equal an absent or null property.
  z.strictObject({ ...base, kind: z.literal('empty-equals-absent'), paths: paths.optional(), of: z.array(z.enum(['array', 'object', 'string'])).min(1).optional() }),
  z.strictObject({ ...base, kind: z.literal('null-equals-absent'), paths: paths.optional() }),
  // null equals an empty object or array (tags: null vs {}).
  z.strictObject({ ...base, kind: z.literal('null-equals-empty'), paths }),
  // Arrays whose order ARM does not keep; with `key`, elements pair by that field.
  z.strictObject({ ...base, kind: z.literal('unordered'), paths, key: z.string().min(1).max(200).optional() }),
  // `{ "value": X }` equals X (policy parameter values).
  z.strictObject({ ...base, kind: z.literal('value-wrapper'), paths }),
  // A string holding JSON equals the data it holds (policy rules).
  z.strictObject({ ...base, kind: z.literal('json-string'), paths }),
  // Numbers and booleans equal their string form, where ARM echoes strings.
  z.strictObject({ ...base, kind: z.literal('scalar-string'), paths }),
  // The baseline: a property the desired body never set whose live value equals the baseline.
  z.strictObject({ ...base, kind: z.literal('baseline') }),
]);
export type Rule = z.infer<typeof ruleSchema>;
export type RuleKind = Rule['kind'];

// An entry that only turns a rule off (or on) by name.
const toggleSchema = z.strictObject({ name, enabled: z.boolean() });

const fileSchema = z.strictObject({ rules: z.array(z.unknown()).max(MAX_RULES) });

/** One pattern of one rule, ready for the walker. */
export interface Entry {
  rule: string;
  /** `owned`: an OwnedPath or child path from the input, suppressing its whole subtree. */
  kind: Exclude<RuleKind, 'baseline'> | 'owned';
  /** `default`: the service's value. */
  value?: unknown;
  /** `unordered`: the field elements pair by. */
  key?: string;
  /** `resource-id`: lower-cased prefixes. */
  prefixes?: string[];
  /** `server-set`: desired values meaning "the service chooses". */
  unset?: unknown[];
  /** `list-or-single`: the two property names, as written and lower-cased. */
  list?: string;
  single?: string;
  /** `read-only` with a condition on a live sibling. */
  when?: { sibling: string; lower: string; in: unknown[] };
  /** `empty-equals-absent`: which empties count. */
  of?: ReadonlySet<'array' | 'object' | 'string'>;
}

export interface CompiledRule {
  name: string;
  kind: RuleKind;
  /** The file the rule came from. */
  source: string;
  /** Matches the ARM type, or null for every type. */
  types: RegExp[] | null;
  patterns: Step[][];
  entries: Entry[];
}

export interface RuleSet {
  rules: CompiledRule[];
  /** The rules per ARM type (lower-cased), arranged for the walker on first use (see active.ts). */
  byType: Map<string, Active>;
}

export class RulesError extends Error {
  constructor(readonly file: string, readonly field: string, message: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${message}`);
    this.name = 'RulesError';
  }
}

function fieldOf(prefix: (string | number)[], path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of [...prefix, ...path]) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s;
}

function depthOf(v: unknown, depth = 0): number {
  if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return depth;
  let max = depth;
  for (const c of Object.values(v)) max = Math.max(max, depthOf(c, depth + 1));
  return max;
}

function typeGlob(glob: string): RegExp {
  const src = glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*');
  return new RegExp(`^${src}$`, 'i');
}

function compile(rule: Rule, file: string, field: string): CompiledRule {
  const patterns: Step[][] = [];
  const entries: Entry[] = [];
  const pat = (src: string, at: string, entry: Entry) => {
    const steps = parsePattern(src);
    if (typeof steps === 'string') throw new RulesError(file, at, steps);
    patterns.push(steps);
    entries.push(entry);
  };
  switch (rule.kind) {
    case 'baseline': break;
    case 'default':
      rule.defaults.forEach((d, i) => pat(d.path, `${field}.defaults[${i}].path`, { rule: rule.name, kind: 'default', value: d.value }));
      break;
    case 'resource-id': {
      const prefixes = rule.prefixes.map((p) => p.toLowerCase());
      (rule.paths ?? ['**']).forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind, prefixes }));
      break;
    }
    case 'empty-equals-absent': {
      const of = new Set<'array' | 'object' | 'string'>(rule.of ?? ['array', 'object']);
      (rule.paths ?? ['**']).forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind, of }));
      break;
    }
    case 'null-equals-absent':
      (rule.paths ?? ['**']).forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind }));
      break;
    case 'unordered':
      rule.paths.forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind, key: rule.key }));
      break;
    case 'read-only': {
      const when = rule.when ? { sibling: rule.when.sibling, lower: rule.when.sibling.toLowerCase(), in: rule.when.in } : undefined;
      rule.paths.forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind, when }));
      break;
    }
    case 'server-set':
      rule.paths.forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind, unset: rule.unset }));
      break;
    case 'list-or-single':
      rule.paths.forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind, list: rule.list, single: rule.single }));
      break;
    default:
      rule.paths.forEach((p, i) => pat(p, `${field}.paths[${i}]`, { rule: rule.name, kind: rule.kind }));
  }
  return { name: rule.name, kind: rule.kind, source: file, types: rule.types ? rule.types.map(typeGlob) : null, patterns, entries };
}

/** Parse one rules file's text; errors name the file and the field. */
export function parseRulesText(text: string, file: string): { rules: CompiledRule[]; disabled: Set<string> } {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 50, uniqueKeys: true });
  } catch (err) {
    throw new RulesError(file, '', `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (depthOf(doc) > MAX_DEPTH) throw new RulesError(file, '', `nested deeper than ${MAX_DEPTH} levels`);
  const top = fileSchema.safeParse(doc);
  if (!top.success) {
    const issue = top.error.issues[0];
    throw new RulesError(file, fieldOf([], issue.path), issue.message);
  }
  const rules: CompiledRule[] = [];
  const disabled = new Set<string>();
  const seen = new Set<string>();
  top.data.rules.forEach((raw, i) => {
    const field = `rules[${i}]`;
    const toggle = toggleSchema.safeParse(raw);
    if (toggle.success) {
      if (!toggle.data.enabled) disabled.add(toggle.data.name);
      return;
    }
    const r = ruleSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new RulesError(file, fieldOf([field], issue.path), issue.message);
    }
    if (seen.has(r.data.name)) throw new RulesError(file, `${field}.name`, `"${r.data.name}" is already the name of another rule in this file`);
    seen.add(r.data.name);
    if (r.data.enabled === false) { disabled.add(r.data.name); return; }
    rules.push(compile(r.data, file, field));
  });
  return { rules, disabled };
}

function readRulesFile(file: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new RulesError(file, '', 'not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof RulesError) throw err;
    throw new RulesError(file, '', `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (size > MAX_FILE_BYTES) throw new RulesError(file, '', `${size} bytes; rules files are at most ${MAX_FILE_BYTES}`);
  return readFileSync(file, 'utf8');
}

/**
 * The shipped rules, then the tenant's: a tenant rule replaces a shipped rule of the same name
 * (in place), a new name is added, and `enabled: false` turns a rule off.
 */
export function loadRules(opts: { tenantFile?: string } = {}): RuleSet {
  const shipped = parseRulesText(readRulesFile(DEFAULT_RULES_FILE), DEFAULT_RULES_FILE);
  if (!opts.tenantFile) return { rules: shipped.rules, byType: new Map() };
  const tenant = parseRulesText(readRulesFile(opts.tenantFile), opts.tenantFile);
  return mergeRules(shipped.rules, tenant.rules, tenant.disabled);
}

export function mergeRules(shipped: CompiledRule[], tenant: CompiledRule[], disabled: ReadonlySet<string>): RuleSet {
  const byName = new Map(tenant.map((r) => [r.name, r]));
  const rules: CompiledRule[] = [];
  for (const r of shipped) {
    if (disabled.has(r.name)) continue;
    const over = byName.get(r.name);
    rules.push(over ?? r);
    byName.delete(r.name);
  }
  for (const r of byName.values()) if (!disabled.has(r.name)) rules.push(r);
  return { rules, byType: new Map() };
}

/** Rules text given directly (tests, or a tenant file already read); shipped rules not included. */
export function ruleSetFromText(text: string, file = '<rules>'): RuleSet {
  return { rules: parseRulesText(text, file).rules, byType: new Map() };
}

// Property-level differences between two resource snapshots, keyed the way Resource Graph's
// `resourcechanges` table keys them ("properties.enforcementMode", "tags.env", "properties.notScopes[0]").
type Json = unknown;

export interface PropertyChange {
  previousValue: Json;
  newValue: Json;
  propertyChangeType: 'Insert' | 'Update' | 'Remove';
}

function flatten(v: Json, prefix: string, out: Map<string, Json>) {
  if (Array.isArray(v)) {
    if (v.length === 0 && prefix) out.set(prefix, []);
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
  } else if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, Json>);
    if (entries.length === 0 && prefix) out.set(prefix, {});
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, v);
  }
}

export function diffSnapshots(before: Json | undefined, after: Json | undefined): Record<string, PropertyChange> {
  const a = new Map<string, Json>();
  const b = new Map<string, Json>();
  if (before !== undefined) flatten(before, '', a);
  if (after !== undefined) flatten(after, '', b);
  const out: Record<string, PropertyChange> = {};
  for (const [k, v] of a) {
    if (!b.has(k)) out[k] = { previousValue: v, newValue: null, propertyChangeType: 'Remove' };
    else if (JSON.stringify(v) !== JSON.stringify(b.get(k)))
      out[k] = { previousValue: v, newValue: b.get(k), propertyChangeType: 'Update' };
  }
  for (const [k, v] of b) if (!a.has(k)) out[k] = { previousValue: null, newValue: v, propertyChangeType: 'Insert' };
  return out;
}

/** ARM PATCH semantics: objects merge recursively, everything else (arrays included) replaces. */
export function deepMerge(base: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  if (base === null || typeof base !== 'object' || Array.isArray(base)) base = {};
  const out: Record<string, Json> = { ...(base as Record<string, Json>) };
  for (const [k, v] of Object.entries(patch as Record<string, Json>)) out[k] = deepMerge(out[k], v);
  return out;
}

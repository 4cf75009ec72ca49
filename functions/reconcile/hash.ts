// Stable fingerprints that pin an approval to one exact preview.
import { createHash } from 'node:crypto';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { DesiredState } from '../../stacks/compile/model.ts';

/** JSON with object keys sorted, so equal values hash equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What would change: ops, resources and property diffs; not diagnostics or timings. */
export function changeSetHash(cs: ChangeSet): string {
  const changes = cs.changes
    .map((c) => ({ op: c.op, urn: c.urn, type: c.type, armId: c.armId, scope: c.scope, diffs: c.diffs }))
    .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.op.localeCompare(b.op)));
  return sha256(canonicalJson({ stack: cs.stack, changes }));
}

/** The desired state of one stack: its resources as compiled. */
export function desiredStateHash(state: DesiredState, stack: string): string {
  const plan = state.stacks.find((s) => s.name === stack);
  const ids = new Set(plan?.resourceIds ?? []);
  const resources = state.resources.filter((r) => ids.has(r.id) || r.stack === stack)
    .map((r) => ({ id: r.id, type: r.type, apiVersion: r.apiVersion, scope: r.scope, body: r.body, dependsOn: r.dependsOn }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sha256(canonicalJson({ stack, tenantRootId: state.tenantRootId, resources }));
}

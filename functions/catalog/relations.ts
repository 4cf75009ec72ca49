// Relations: which spec fields declare which relation, with the kind a bare name defaults to, and the
// inverse of every relation type so both directions are stored.
import { parseRef, refKey, RefError } from './refs.ts';
import { checkExplicitRelation, checkFieldRelation } from './relation-types.ts';
import type { Issue, Kind, RelationDecl } from './kinds.ts';

export { inverseOf } from './relation-types.ts';

interface FieldRule {
  field: string;
  type: string;
  /** Default kind for a reference without one. */
  kind: string;
  many?: boolean;
  /** Identity relations: the target must be of exactly this kind (a team's members are Users). */
  only?: string;
}

/** Spec fields that declare relations, per kind. Owner is handled apart (it goes through resolution). */
const RULES: Partial<Record<Kind, FieldRule[]>> & { '*': FieldRule[] } = {
  '*': [
    { field: 'system', type: 'partOf', kind: 'system' },
    { field: 'repository', type: 'builtFrom', kind: 'repository' },
    { field: 'dependsOn', type: 'dependsOn', kind: 'service', many: true },
    { field: 'dependencyOf', type: 'dependencyOf', kind: 'service', many: true },
    { field: 'affects', type: 'affects', kind: 'service', many: true },
  ],
  Service: [
    { field: 'providesApis', type: 'providesApi', kind: 'api', many: true },
    { field: 'consumesApis', type: 'consumesApi', kind: 'api', many: true },
    { field: 'deployedTo', type: 'deployedTo', kind: 'environment', many: true },
    { field: 'subcomponentOf', type: 'partOf', kind: 'service' },
  ],
  Pipeline: [{ field: 'deploysTo', type: 'deployedTo', kind: 'environment', many: true }],
  AzureResource: [
    { field: 'environment', type: 'deployedTo', kind: 'environment' },
    { field: 'managedBy', type: 'managedBy', kind: 'stack' },
  ],
  Environment: [{ field: 'services', type: 'hosts', kind: 'service', many: true }],
  Team: [
    { field: 'parent', type: 'childOf', kind: 'team', only: 'team' },
    { field: 'children', type: 'parentOf', kind: 'team', many: true, only: 'team' },
    { field: 'members', type: 'hasMember', kind: 'user', many: true, only: 'user' },
  ],
  API: [{ field: 'consumers', type: 'apiConsumedBy', kind: 'service', many: true }],
  Package: [
    { field: 'consumers', type: 'dependencyOf', kind: 'service', many: true },
    // A Backstage library Component keeps its Component relations.
    { field: 'providesApis', type: 'providesApi', kind: 'api', many: true },
    { field: 'consumesApis', type: 'consumesApi', kind: 'api', many: true },
    { field: 'subcomponentOf', type: 'partOf', kind: 'service' },
  ],
  User: [{ field: 'memberOf', type: 'memberOf', kind: 'team', many: true, only: 'team' }],
  System: [{ field: 'domain', type: 'partOf', kind: 'domain' }],
  Domain: [{ field: 'subdomainOf', type: 'partOf', kind: 'domain' }],
  // Backstage's AiResource relation fields; its own rules replace the '*' rule of the same field.
  AiResource: [
    { field: 'dependsOn', type: 'dependsOn', kind: 'airesource', many: true },
    { field: 'skills', type: 'hasSkill', kind: 'airesource', many: true },
    { field: 'plugins', type: 'hasPlugin', kind: 'airesource', many: true },
  ],
};

/** Whether a key names an existing entity (the catalog's index). */
export interface ComponentLookup {
  has(key: string): boolean;
}

/**
 * A Backstage `component:` reference (or a bare name where a Service is the default) means a
 * Service, except that Backstage's library Components are stored as Packages: when no such
 * Service exists and a Package of that name does, the reference is the Package.
 */
function componentTarget(text: string, resolved: string, defaultKind: string | undefined, lookup: ComponentLookup | undefined): string {
  if (!lookup || !resolved.startsWith('service:')) return resolved;
  const colon = text.indexOf(':');
  const written = colon > 0 ? text.slice(0, colon).trim().toLowerCase() : defaultKind;
  if (written !== 'component' && written !== 'service') return resolved;
  if (written === 'service' && colon > 0) return resolved; // `service:x` says Service outright
  const pkg = `package:${resolved.slice('service:'.length)}`;
  return !lookup.has(resolved) && lookup.has(pkg) ? pkg : resolved;
}

/** Resolves a reference written in an entity against the entity's namespace and a default kind. */
export function resolveRef(text: string, defaultKind: string, namespace: string): string {
  return refKey(parseRef(text, { kind: defaultKind, namespace }));
}

/**
 * The relations an entity declares: from its spec fields and its explicit `relations` list, as
 * canonical keys. Bad references become issues naming the field.
 */
export function declaredRelations(
  e: { kind: Kind; metadata: { namespace: string }; spec: Record<string, unknown>; relations: RelationDecl[] },
  owner: string | undefined,
  issues: Issue[],
  lookup?: ComponentLookup,
): Array<{ type: string; target: string }> {
  const out = new Map<string, { type: string; target: string }>();
  const add = (type: string, text: unknown, kind: string, path: string, only?: string) => {
    if (typeof text !== 'string') return;
    try {
      const target = componentTarget(text, resolveRef(text, kind, e.metadata.namespace), kind, lookup);
      if (only && !target.startsWith(`${only}:`)) {
        issues.push({ path, message: `'${text}' must be a ${only} (${target} is not)` });
        return;
      }
      if (!checkFieldRelation(e.kind.toLowerCase(), type, target, path, issues)) return;
      out.set(`${type}|${target}`, { type, target });
    } catch (err) {
      if (err instanceof RefError) issues.push({ path, message: err.message });
      else throw err;
    }
  };
  if (owner) add('ownedBy', owner, 'team', 'spec.owner');
  const own = RULES[e.kind] ?? [];
  for (const rule of [...RULES['*'].filter((r) => !own.some((o) => o.field === r.field)), ...own]) {
    const value = e.spec[rule.field];
    if (value === undefined) continue;
    if (Array.isArray(value)) value.forEach((v, i) => add(rule.type, v, rule.kind, `spec.${rule.field}.${i}`, rule.only));
    else add(rule.type, value, rule.kind, `spec.${rule.field}`, rule.only);
  }
  e.relations.forEach((r, i) => {
    try {
      const target = componentTarget(r.targetRef, refKey(parseRef(r.targetRef, { namespace: e.metadata.namespace })), undefined, lookup);
      if (!checkExplicitRelation(e.kind.toLowerCase(), r.type, target, `relations.${i}`, issues)) return;
      out.set(`${r.type}|${target}`, { type: r.type, target });
    } catch (err) {
      if (err instanceof RefError) issues.push({ path: `relations.${i}.targetRef`, message: err.message });
      else throw err;
    }
  });
  return [...out.values()];
}

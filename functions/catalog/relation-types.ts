// The relation types the catalog knows: each with its inverse and the kinds it may join. Explicit
// `relations` in a document are checked against this list; identity and ownership relations are
// refused there, because they grant rights and come only from the fields that define them
// (spec.owner, spec.members, spec.memberOf, spec.parent, spec.children).
import type { Issue } from './kinds.ts';

/** Kinds of entities that are things teams build or run (not people, not teams). */
const COMPONENTS = ['service', 'package', 'api', 'azureresource', 'stack', 'pipeline', 'repository', 'airesource', 'template'];
const ALL_BUT_IDENTITY = [...COMPONENTS, 'environment', 'system', 'domain', 'incident', 'workitem'];

interface TypeRule {
  inverse: string;
  /** Lower-cased kinds allowed on the declaring side and on the target side. */
  from: readonly string[];
  to: readonly string[];
  /** Identity and ownership: never explicit, only from the spec fields that define them. */
  identity?: true;
}

/** Each type once, in its "forward" direction; inverses are derived. */
const FORWARD: ReadonlyArray<[string, TypeRule]> = [
  ['ownedBy', { inverse: 'ownerOf', from: ALL_BUT_IDENTITY, to: ['team', 'user'], identity: true }],
  ['memberOf', { inverse: 'hasMember', from: ['user'], to: ['team'], identity: true }],
  ['childOf', { inverse: 'parentOf', from: ['team'], to: ['team'], identity: true }],
  ['dependsOn', { inverse: 'dependencyOf', from: COMPONENTS, to: COMPONENTS }],
  ['partOf', { inverse: 'hasPart', from: [...COMPONENTS, 'system', 'domain', 'environment'], to: ['system', 'domain', 'service', 'package'] }],
  ['providesApi', { inverse: 'apiProvidedBy', from: ['service', 'package', 'azureresource', 'airesource'], to: ['api'] }],
  ['consumesApi', { inverse: 'apiConsumedBy', from: ['service', 'package', 'azureresource', 'airesource', 'pipeline'], to: ['api'] }],
  ['deployedTo', { inverse: 'hosts', from: [...COMPONENTS], to: ['environment'] }],
  ['managedBy', { inverse: 'manages', from: ['azureresource', 'environment'], to: ['stack', 'pipeline'] }],
  ['builtFrom', { inverse: 'builds', from: ['service', 'package', 'pipeline', 'api', 'stack', 'airesource', 'template'], to: ['repository'] }],
  ['affects', { inverse: 'affectedBy', from: ['incident', 'workitem'], to: [...ALL_BUT_IDENTITY, 'team'] }],
  // Backstage's AiResource: a plugin or marketplace bundles skills and plugins.
  ['hasSkill', { inverse: 'skillOf', from: ['airesource'], to: ['airesource'] }],
  ['hasPlugin', { inverse: 'pluginOf', from: ['airesource'], to: ['airesource'] }],
];

/** Every type, both directions, in a Map: types come from users, so never a plain object look-up. */
const TYPES: ReadonlyMap<string, TypeRule> = new Map(FORWARD.flatMap(([type, r]) => [
  [type, r] as const,
  [r.inverse, { inverse: type, from: r.to, to: r.from, ...(r.identity ? { identity: true as const } : {}) }] as const,
]));

export const RELATION_TYPES: readonly string[] = [...TYPES.keys()].sort();
export const IDENTITY_RELATION_TYPES: readonly string[] = RELATION_TYPES.filter((t) => TYPES.get(t)!.identity);

/** The inverse of a known type; an unknown type (rows from before this list) gets a marked inverse. */
export function inverseOf(type: string): string {
  return TYPES.get(type)?.inverse ?? `${type}Inverse`;
}

export function isRelationType(type: string): boolean {
  return TYPES.has(type);
}

/** The kind part of a canonical key (`service:default/x` → `service`). */
function kindOf(key: string): string {
  return key.slice(0, key.indexOf(':'));
}

/**
 * Checks one explicit relation of an entity of `kind` (lower-case) to `target` (a canonical key):
 * the type must be known, not an identity type, and join kinds it is made for. Issues name `path`.
 */
export function checkExplicitRelation(kind: string, type: string, target: string, path: string, issues: Issue[]): boolean {
  const rule = TYPES.get(type);
  if (!rule) {
    issues.push({ path: `${path}.type`, message: `'${type}' is not a relation type; one of ${RELATION_TYPES.filter((t) => !TYPES.get(t)!.identity).join(', ')}` });
    return false;
  }
  if (rule.identity) {
    issues.push({ path: `${path}.type`, message: `'${type}' is an identity or ownership relation: set it with spec.owner, spec.members, spec.memberOf, spec.parent or spec.children` });
    return false;
  }
  return fitsKinds(rule, kind, type, target, { from: `${path}.type`, to: `${path}.targetRef` }, issues);
}

/**
 * Checks a relation a spec field declares (`spec.dependsOn`, `spec.system`...): the same kinds as
 * an explicit one, so no field writes a relation onto a Team or a User it is not made for.
 * Identity relations are checked where they are defined (the fields' own target kind, write-rules).
 */
export function checkFieldRelation(kind: string, type: string, target: string, path: string, issues: Issue[]): boolean {
  const rule = TYPES.get(type);
  if (!rule || rule.identity) return true;
  return fitsKinds(rule, kind, type, target, { from: path, to: path }, issues);
}

function fitsKinds(rule: TypeRule, kind: string, type: string, target: string, paths: { from: string; to: string }, issues: Issue[]): boolean {
  if (!rule.from.includes(kind)) {
    issues.push({ path: paths.from, message: `a ${kind} cannot declare '${type}' (only ${rule.from.join(', ')})` });
    return false;
  }
  const to = kindOf(target);
  if (!rule.to.includes(to)) {
    issues.push({ path: paths.to, message: `'${type}' points at ${rule.to.join(', ')}, not a ${to} (${target})` });
    return false;
  }
  return true;
}

// Entity names and references, following Backstage's rules so catalog-info.yaml files work as they are.
// A reference is `kind:namespace/name`; kind and namespace may be left out where a default applies.
// References compare case-insensitively (as in Backstage), so keys are lower-cased.
import { createHash } from 'node:crypto';

/**
 * Backstage's `metadata.name` (KubernetesValidatorFunctions.isValidObjectName): 1..63 chars of
 * A-Z a-z 0-9 - _ . that begin and end with a letter or digit (runs such as `a--b` are allowed).
 */
export const NAME_RE = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
/** A DNS label: lower-case alphanumerics and `-` (Backstage's `metadata.namespace`). */
export const NAMESPACE_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Backstage's tag rule: lower-case, `:+#` allowed, single dashes between. */
export const TAG_RE = /^[a-z0-9:+#]+(?:-[a-z0-9:+#]+)*$/;
/** Label and annotation keys: optional DNS-subdomain prefix, then a name. */
export const KEY_RE = /^(?:[a-z0-9]+(?:[-.][a-z0-9]+)*\/)?(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
export const MAX_NAME = 63;
export const DEFAULT_NAMESPACE = 'default';

export interface EntityRef {
  kind: string;
  namespace: string;
  name: string;
}

export class RefError extends Error {}

/** Backstage kind names in references that mean a Nexus kind (component:x is a Service, group:x a Team). */
// A Map, not an object: the kind comes from users, and `constructor` or `__proto__` must not find anything.
export const KIND_ALIASES: ReadonlyMap<string, string> = new Map([
  ['component', 'service'],
  ['group', 'team'],
  ['resource', 'azureresource'],
]);

/**
 * Parses `[kind:][namespace/]name` as Backstage's parseEntityRef does: a `:` after the first `/` is
 * part of the name, and an empty kind, namespace or name is an error. The default kind applies when
 * the text has none (e.g. `owner: payments` means `team:<namespace>/payments`); the default namespace
 * is the referencing entity's own (callers pass it), else `default`. Without a default kind, a
 * kind-less reference is an error.
 */
export function parseRef(text: string, defaults: { kind?: string; namespace?: string } = {}): EntityRef {
  const raw = String(text ?? '').trim();
  if (!raw) throw new RefError('entity reference is empty');
  let colon = raw.indexOf(':');
  const slash = raw.indexOf('/');
  if (slash !== -1 && slash < colon) colon = -1;
  const written = colon === -1 ? undefined : raw.slice(0, colon);
  const namespaceWritten = slash === -1 ? undefined : raw.slice(colon + 1, slash);
  const name = raw.slice(Math.max(colon + 1, slash + 1));
  if (written === '' || namespaceWritten === '' || name === '') {
    throw new RefError(`entity reference '${raw}' is not of the form [<kind>:][<namespace>/]<name>`);
  }
  let kind = written ?? defaults.kind;
  const namespace = namespaceWritten ?? (defaults.namespace || DEFAULT_NAMESPACE);
  if (!kind) throw new RefError(`entity reference '${raw}' has no kind (write kind:namespace/name)`);
  kind = KIND_ALIASES.get(kind.toLowerCase()) ?? kind;
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind)) throw new RefError(`entity reference '${raw}': '${kind}' is not a kind`);
  if (!NAMESPACE_RE.test(namespace.toLowerCase()) || namespace.length > MAX_NAME) {
    throw new RefError(`entity reference '${raw}': namespace '${namespace}' must be a DNS label (a-z, 0-9, '-')`);
  }
  if (!NAME_RE.test(name) || name.length > MAX_NAME) {
    throw new RefError(`entity reference '${raw}': name '${name}' breaks the naming rules (1-63 of A-Z a-z 0-9 - _ ., beginning and ending with a letter or digit)`);
  }
  return { kind: kind.toLowerCase(), namespace: namespace.toLowerCase(), name };
}

/** The canonical, lower-cased form used as key everywhere: `kind:namespace/name`. */
export function refKey(ref: EntityRef): string {
  return `${ref.kind.toLowerCase()}:${ref.namespace.toLowerCase()}/${ref.name.toLowerCase()}`;
}

/** Parses and canonicalises in one step. */
export function normalizeRef(text: string, defaults: { kind?: string; namespace?: string } = {}): string {
  return refKey(parseRef(text, defaults));
}

export function entityRefOf(e: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return refKey({ kind: e.kind, namespace: e.metadata.namespace ?? DEFAULT_NAMESPACE, name: e.metadata.name });
}

/** Table keys: partition by kind, row key `namespace:name` (no characters Azure Tables forbids). */
export function tableKeysOf(key: string): { pk: string; rk: string } {
  const ref = parseRef(key);
  return { pk: ref.kind, rk: `${ref.namespace}:${ref.name.toLowerCase()}` };
}

export function keyFromTable(pk: string, rk: string): string {
  const i = rk.indexOf(':');
  return `${pk}:${rk.slice(0, i)}/${rk.slice(i + 1)}`;
}

/**
 * Turns any external identifier (repository, Azure resource, workflow name) into a valid entity name:
 * invalid characters become '-', and names over 63 characters keep a short hash so they stay unique.
 */
export function toEntityName(raw: string, opts: { hashSuffix?: boolean; hashOf?: string } = {}): string {
  let s = raw.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/[-_.]{2,}/g, (m) => m[0]!).replace(/^[-_.]+|[-_.]+$/g, '');
  if (!s) s = 'x';
  const hash = createHash('sha256').update((opts.hashOf ?? raw).toLowerCase()).digest('hex').slice(0, 8);
  if (opts.hashSuffix) {
    s = `${s.slice(0, MAX_NAME - 9).replace(/[-_.]+$/, '')}-${hash}`;
  } else if (s.length > MAX_NAME) {
    s = `${s.slice(0, MAX_NAME - 9).replace(/[-_.]+$/, '')}-${hash}`;
  }
  return s;
}

/** A namespace from any identifier (GitHub owner, ADO project): lower-case DNS label. */
export function toNamespace(raw: string): string {
  const s = raw.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_NAME).replace(/-+$/, '');
  return s || DEFAULT_NAMESPACE;
}

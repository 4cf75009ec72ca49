// Who owns an entity, in the order: the entity's own `owner`; the CODEOWNERS of its repository;
// Azure tags `owner` / `team`; the Entra group membership of whoever wrote it. Pure: lookups are passed in.
import { parseRef, refKey, RefError, toEntityName } from './refs.ts';
import type { Entity, EntityStatus, SourceInfo } from './kinds.ts';
import { globSource } from '../platform/glob.ts';

export interface CodeownersRule {
  pattern: string;
  owners: string[];
}

/** Parses a CODEOWNERS file: one `pattern owner...` per line, `#` comments. */
export function parseCodeowners(text: string): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const [pattern, ...owners] = line.split(/\s+/);
    rules.push({ pattern: pattern!, owners });
  }
  return rules;
}

function globToRegExp(pattern: string): RegExp {
  const anchored = pattern.startsWith('/') || pattern.replace(/\/$/, '').includes('/');
  let p = pattern.replace(/^\//, '');
  if (p.endsWith('/')) p = p.slice(0, -1);
  // A pattern matches the path itself or anything below it (GitHub's gitignore-style rule).
  return new RegExp(`${anchored ? '^' : '(^|/)'}${globSource(p, { star: 'segment' })}(/.*)?$`);
}

/** The owners of a path: the last matching rule wins. */
export function codeownersFor(rules: CodeownersRule[], path: string): string[] {
  const clean = path.replace(/^\//, '');
  let owners: string[] = [];
  for (const rule of rules) if (rule.pattern === '*' || globToRegExp(rule.pattern).test(clean)) owners = rule.owners;
  return owners;
}

/** `@org/team` is a Team, `@login` a User; e-mail addresses go through the user lookup. */
export function codeownerRef(owner: string, lookup: OwnerLookup): string | undefined {
  if (owner.startsWith('@')) {
    const handle = owner.slice(1);
    const slash = handle.indexOf('/');
    if (slash >= 0) return refKey({ kind: 'team', namespace: 'default', name: toEntityName(handle.slice(slash + 1)) });
    return lookup.userByLogin?.(handle) ?? refKey({ kind: 'user', namespace: 'default', name: toEntityName(handle) });
  }
  if (owner.includes('@')) return lookup.userByEmail?.(owner);
  return undefined;
}

export interface OwnerLookup {
  entity(key: string): Entity | undefined;
  userByEmail?(email: string): string | undefined;
  userByLogin?(login: string): string | undefined;
  /** Teams whose Entra group is one of these ids. */
  teamsByEntraGroups?(groupIds: string[]): string[];
  /** Teams an actor (user name, e-mail or object id) belongs to. */
  teamsOfActor?(actor: string): string[];
}

function tagValue(tags: unknown, key: string): string | undefined {
  if (!tags || typeof tags !== 'object') return undefined;
  for (const [k, v] of Object.entries(tags as Record<string, unknown>)) if (k.toLowerCase() === key && typeof v === 'string' && v.trim()) return v.trim();
  return undefined;
}

/** Parses an owner value written by a person: a bare name is a Team; e-mails resolve to a User. */
function ownerText(text: string, namespace: string, lookup: OwnerLookup): string | undefined {
  if (/^[^:/\s]+@[^\s]+$/.test(text)) return lookup.userByEmail?.(text);
  try {
    return refKey(parseRef(text, { kind: 'team', namespace }));
  } catch (err) {
    if (err instanceof RefError) return undefined;
    throw err;
  }
}

export function resolveOwner(
  e: Pick<Entity, 'kind' | 'metadata' | 'spec'>,
  source: SourceInfo | undefined,
  lookup: OwnerLookup,
): Pick<EntityStatus, 'owner' | 'ownerSource'> {
  const ns = e.metadata.namespace;
  // 1. The entity's own owner (a bad reference here is a validation error, raised by the caller).
  if (typeof e.spec.owner === 'string') {
    const owner = ownerText(e.spec.owner, ns, lookup);
    if (owner) return { owner, ownerSource: 'owner' };
  }
  // 2. CODEOWNERS of its repository (the repository itself, or the one it is built from).
  const repoKey = e.kind === 'Repository'
    ? refKey({ kind: 'repository', namespace: ns, name: e.metadata.name })
    : typeof e.spec.repository === 'string' ? safeRef(e.spec.repository, 'repository', ns) : undefined;
  const repo = repoKey ? (e.kind === 'Repository' ? (e as Entity) : lookup.entity(repoKey)) : undefined;
  const rules = (repo?.spec.codeowners as CodeownersRule[] | undefined) ?? [];
  if (rules.length) {
    const path = e.metadata.annotations?.['nexus.io/source-path'] ?? '';
    for (const o of codeownersFor(rules, path || 'catalog-info.yaml')) {
      const owner = codeownerRef(o, lookup);
      if (owner) return { owner, ownerSource: 'codeowners' };
    }
  }
  // 3. Azure tags.
  const tagged = tagValue(e.spec.tags, 'owner') ?? tagValue(e.spec.tags, 'team');
  if (tagged) {
    // Teams named in tags live in the default namespace (resources sit in a subscription's namespace).
    const owner = ownerText(tagged.includes('@') ? tagged : toEntityName(tagged), 'default', lookup);
    if (owner) return { owner, ownerSource: 'azure-tags' };
  }
  // 4. Entra group membership of the writer.
  const teams = [
    ...(source?.groups?.length ? lookup.teamsByEntraGroups?.(source.groups) ?? [] : []),
    ...(source?.actor ? lookup.teamsOfActor?.(source.actor) ?? [] : []),
  ];
  if (teams.length) return { owner: teams.sort()[0], ownerSource: 'entra' };
  return {};
}

function safeRef(text: string, kind: string, namespace: string): string | undefined {
  try { return refKey(parseRef(text, { kind, namespace })); } catch { return undefined; }
}

// An entity on its way in: parsed and validated (Backstage documents mapped), merged over what is
// stored (ingestion), its owner and relations resolved, and stamped with source and lastSeen.
import {
  ValidationError, validateEntity, type Entity, type EntityStatus, type Issue, type RelationDecl, type SourceInfo,
} from './kinds.ts';
import { fromBackstage, isBackstage } from './backstage.ts';
import { declaredRelations } from './relations.ts';
import { resolveOwner } from './ownership.ts';
import { OID_ANNOTATIONS, type MemoryIndex } from './memory-index.ts';
import { parseRef, refKey, type EntityRef } from './refs.ts';
import type { SourceArg } from './types.ts';

/** An entity as stored: `relations` holds the explicitly declared ones (RelationDecl), as written. */
export interface StoredDoc {
  entity: Entity;
  declared: Array<{ type: string; target: string }>;
}

export type Parsed = Omit<Entity, 'relations'> & { relations: RelationDecl[] };

export type Sources = Record<string, { name: string; scope?: string; ref?: string; lastSeen: string; gone?: boolean }>;

// Azure Tables count strings as UTF-16 (2 bytes a character) and hold at most 1 MiB a row.
export const MAX_DOC = 450_000;

/** User fields that say who someone is (and so what they own): only Admin or ingestion set them. */
export const USER_IDENTITY_FIELDS = ['spec.memberOf', 'spec.githubLogin', 'spec.profile.email', 'spec.entraObjectId', ...OID_ANNOTATIONS.map((a) => `metadata.annotations.${a}`)];

/** The identity fields of a User that `next` sets differently from `before` (a new User: every one it sets). */
export function userIdentityChanges(before: Entity | undefined, next: Pick<Entity, 'kind' | 'metadata' | 'spec'>): string[] {
  if (next.kind !== 'User' && before?.kind !== 'User') return [];
  const value = (e: unknown, path: string): string => {
    if (!e) return '';
    const [root, ...rest] = path.startsWith('metadata.annotations.') ? ['metadata', 'annotations', path.slice('metadata.annotations.'.length)] : path.split('.');
    let cur: unknown = e;
    for (const part of [root, ...rest]) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part!] : undefined;
    if (cur === undefined || cur === null || (Array.isArray(cur) && !cur.length)) return '';
    return JSON.stringify(Array.isArray(cur) ? cur.map((x) => String(x).toLowerCase()).sort() : String(cur).toLowerCase());
  };
  return USER_IDENTITY_FIELDS.filter((f) => value(before, f) !== value(next, f));
}

export function toSource(s: SourceArg): SourceInfo {
  if ('name' in s && typeof s.name === 'string') return s;
  const a = s as { source: string; principal?: string; groups?: string[] };
  return { name: a.source, actor: a.principal, groups: a.groups };
}

export function sourceKey(s: SourceInfo): string {
  return `${s.name}|${s.scope ?? ''}`;
}

/** Every source that wrote the entity (key `name|scope`), with when it last saw it and whether it is gone. */
export function sourcesOfEntity(e: Pick<Entity, 'status'>): Sources {
  return sourcesOf(e.status);
}

export function sourcesOf(status: EntityStatus | undefined): Sources {
  return ((status as { sources?: Sources } | undefined)?.sources) ?? {};
}

export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The index key of a reference (`kind:namespace/name`, or its parts); throws RefError. */
export function keyOf(ref: EntityRef | string): string {
  if (typeof ref === 'string') return refKey(parseRef(ref));
  return refKey(parseRef(`${ref.kind}:${ref.namespace ?? 'default'}/${ref.name}`));
}

export function keyOfParsed(p: Parsed): string {
  return refKey({ kind: p.kind, namespace: p.metadata.namespace, name: p.metadata.name });
}

/** Envelope + spec validation, Backstage mapping; throws ValidationError naming each field. */
export function parseEntity(input: unknown): Parsed {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError([{ path: '', message: 'an entity must be an object with apiVersion, kind, metadata and spec' }]);
  }
  let doc = input;
  if (isBackstage(input)) {
    const mapped = fromBackstage(input);
    if ('location' in mapped) throw new ValidationError([{ path: 'kind', message: 'a Location is an import directive, not an entity: import it as a catalog file' }]);
    doc = mapped.entity;
  }
  return validateEntity(doc);
}

/**
 * Resolves the owner and relations, checks every reference, and stamps source and lastSeen.
 * `touch` false (a re-resolve without a source) keeps sources, lastSeen and orphaning as they were.
 */
export function prepareDoc(index: MemoryIndex, at: string, e: Parsed, source: SourceInfo, prev?: EntityStatus, touch = true): StoredDoc {
  const issues: Issue[] = [];
  const owned = resolveOwner(e, source, index);
  if (typeof e.spec.owner === 'string' && owned.ownerSource !== 'owner') {
    try { parseRef(e.spec.owner, { kind: 'team' }); } catch (err) { issues.push({ path: 'spec.owner', message: (err as Error).message }); }
  }
  const declared = declaredRelations(e, owned.owner, issues, index);
  if (issues.length) throw new ValidationError(issues);
  const sources = { ...sourcesOf(prev) };
  if (touch || !prev) sources[sourceKey(source)] = stripUndefined({ name: source.name, scope: source.scope, ref: source.ref, lastSeen: at });
  const keep = !touch && prev;
  const status: EntityStatus & { sources: Sources } = {
    ...(keep ? { orphaned: prev.orphaned, orphanedAt: prev.orphanedAt } : {}),
    source: stripUndefined(keep ? prev.source : source),
    lastSeen: keep ? prev.lastSeen : at,
    createdAt: prev?.createdAt ?? at,
    ...(owned.owner ? { owner: owned.owner, ownerSource: owned.ownerSource } : {}),
    sources,
  };
  const entity = { ...e, metadata: { ...e.metadata, etag: undefined }, status } as unknown as Entity;
  delete (entity.metadata as { etag?: string }).etag;
  const doc: StoredDoc = { entity, declared };
  if (JSON.stringify(doc).length > MAX_DOC) {
    throw new ValidationError([{ path: '', message: `the entity is larger than ${MAX_DOC} characters; keep large definitions elsewhere and link them` }]);
  }
  return doc;
}

/** A source says the entity is gone: its entry is flagged, and with every source gone the entity is orphaned. */
export function goneDoc(doc: StoredDoc, source: SourceInfo, at: string): StoredDoc {
  const status = { ...doc.entity.status! };
  const sources = { ...sourcesOf(status) };
  const sk = sourceKey(source);
  sources[sk] = { ...(sources[sk] ?? { name: source.name, scope: source.scope, lastSeen: status.lastSeen }), gone: true, ref: source.ref };
  const allGone = Object.values(sources).every((s) => s.gone);
  const next: EntityStatus & { sources: Sources } = {
    ...status, sources, orphaned: allGone, orphanedAt: allGone ? status.orphanedAt ?? at : undefined,
  };
  return { ...doc, entity: { ...doc.entity, status: next } };
}

/** Ingestion's merge: the new spec's fields over the stored ones; labels, annotations, tags and relations combined. */
export function mergeEntity(cur: Entity, next: Parsed, ownedFields: string[] = []): Parsed {
  const spec: Record<string, unknown> = { ...cur.spec, ...stripUndefined(next.spec) };
  for (const f of ownedFields) if (next.spec[f] === undefined) delete spec[f];
  const tags = [...new Set([...(cur.metadata.tags ?? []), ...(next.metadata.tags ?? [])])];
  const rels = new Map<string, RelationDecl>();
  for (const r of [...((cur.relations as unknown as RelationDecl[]) ?? []), ...next.relations]) rels.set(`${r.type}|${r.targetRef}`, { type: r.type, targetRef: r.targetRef });
  return {
    ...next,
    metadata: {
      ...cur.metadata,
      ...stripUndefined(next.metadata),
      labels: { ...cur.metadata.labels, ...next.metadata.labels },
      annotations: { ...cur.metadata.annotations, ...next.metadata.annotations },
      ...(tags.length ? { tags } : {}),
    },
    spec,
    relations: [...rels.values()],
  };
}

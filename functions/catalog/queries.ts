// Reads of the catalog: one entity (from the index, or consistently from its row), lists with
// filters and cursors, relations from the table, the search box with its `kind:`/`owner:`/`tag:`
// syntax, and a team's page. Everything but consistent reads and relations answers from the index.
import { canonicalKind, type Entity, type Relation } from './kinds.ts';
import { pathValue, type MemoryIndex } from './memory-index.ts';
import { entityRefOf, parseRef, refKey, RefError, tableKeysOf, type EntityRef } from './refs.ts';
import { itemOf, type CatalogStore } from './store.ts';
import { keyOf } from './documents.ts';
import { QueryError, type ListOptions, type ListResult, type SearchOptions, type SearchResult, type TeamMembership } from './types.ts';
import { boxFilters } from './index/query.ts';

export class CatalogQueries {
  constructor(private readonly index: MemoryIndex, private readonly store: CatalogStore) {}

  /** From the index; `consistent` reads the table (the source of truth) and refreshes the index. */
  async get(ref: EntityRef | string, opts: { consistent?: boolean } = {}): Promise<Entity | undefined> {
    let key: string;
    try { key = keyOf(ref); } catch (err) { if (err instanceof RefError) return undefined; throw err; }
    if (!opts.consistent) {
      const hit = this.index.view(key);
      if (hit) return hit;
    }
    const { pk, rk } = tableKeysOf(key);
    const row = await this.store.entities.get(pk, rk);
    if (!row) {
      this.index.remove(key);
      return undefined;
    }
    // The table is the source of truth: its row replaces whatever the index holds (clocks of
    // other instances order createdAt, so newer() alone could keep a stale entry).
    const item = itemOf(row);
    if (item) this.index.put(item, { force: true });
    return this.index.view(key);
  }

  /** get() as the JSON the API answers with (serialised once until the next write), and the ETag. */
  async getJson(ref: EntityRef | string): Promise<{ json: string; etag: string } | undefined> {
    let key: string;
    try { key = keyOf(ref); } catch (err) { if (err instanceof RefError) return undefined; throw err; }
    if (!this.index.has(key) && !(await this.get(key))) return undefined;
    const json = this.index.viewJson(key);
    return json === undefined ? undefined : { json, etag: this.index.getIndexed(key)!.etag };
  }

  list(opts: ListOptions = {}): ListResult {
    const limit = Math.max(1, Math.min(opts.limit ?? 50, 1000));
    let after: string | undefined;
    if (opts.cursor) {
      after = Buffer.from(opts.cursor, 'base64url').toString('utf8');
      if (!/^[a-z]+:[a-z0-9-]+\/.+$/.test(after)) throw new QueryError([{ path: 'cursor', message: 'is not a cursor this catalog issued' }]);
    }
    const owner = opts.owner ? ownerKeyOf(opts.owner) : undefined;
    const kind = opts.kind ? canonicalKind(opts.kind) ?? opts.kind : undefined;
    const { keys, more } = this.index.list({
      kind, owner, tag: opts.tag, where: { ...opts.filters, ...opts.where }, limit, after, orphaned: opts.orphaned,
    });
    const items = keys.map((k) => project(this.index.view(k)!, opts.fields));
    const nextCursor = more ? Buffer.from(keys[keys.length - 1]!, 'utf8').toString('base64url') : undefined;
    return nextCursor ? { items, nextCursor, cursor: nextCursor } : { items };
  }

  /** Both directions of the entity's relations, from the `relations` table, with whether each target exists. */
  async relations(ref: EntityRef | string): Promise<Relation[]> {
    const rows = await this.store.relationRows(keyOf(ref));
    return rows.map((row) => ({ type: row.type, targetRef: row.target, resolved: this.index.has(row.target) }))
      .sort((a, b) => (a.type + a.targetRef).localeCompare(b.type + b.targetRef));
  }

  /** One search box across every kind: ranked hits, facets over all matches, the total. */
  search(q: string | ({ q: string } & SearchOptions), opts: SearchOptions = {}): SearchResult {
    const query = typeof q === 'string' ? { q, ...opts } : { ...opts, ...q };
    const { text, kind, owner, ownerField, tag } = parseSearchBox(query.q ?? '', query);
    return this.index.search(text, {
      kind: kind ? canonicalKind(kind) ?? kind : undefined,
      owner: owner ? ownerKeyOf(owner, ownerField) : undefined,
      tag,
      limit: query.limit,
      offset: query.offset,
    });
  }

  /**
   * A team with its members, sub-teams, on-call and everything it owns. `members` are the Users
   * the Team itself lists (spec.members): they get its rights. `claimedMembers` are Users whose
   * own `memberOf` names the Team without the Team listing them: shown, but they grant nothing
   * (anyone could write that). Members through the Team's Entra group are not known here.
   */
  async team(name: string): Promise<{
    team: Entity; members: Entity[]; claimedMembers: Entity[]; membership: TeamMembership[];
    children: Entity[]; owned: Entity[]; onCall?: unknown;
  } | undefined> {
    let key: string;
    try { key = refKey(parseRef(name, { kind: 'team' })); } catch { return undefined; }
    const team = await this.get(key);
    if (!team || team.kind !== 'Team') return undefined;
    const targets = (type: string) => team.relations.filter((r) => r.type === type).map((r) => this.index.view(r.targetRef)).filter((e): e is Entity => !!e);
    const declared = new Set((this.index.getIndexed(key)?.declared ?? []).filter((d) => d.type === 'hasMember').map((d) => d.target));
    const all = targets('hasMember');
    const members = all.filter((u) => declared.has(entityRefOf(u)));
    const claimedMembers = all.filter((u) => !declared.has(entityRefOf(u)));
    const membership: TeamMembership[] = [
      ...members.map((u) => ({ user: entityRefOf(u), grantsRights: true, declaredBy: 'team' as const })),
      ...claimedMembers.map((u) => ({ user: entityRefOf(u), grantsRights: false, declaredBy: 'user' as const })),
    ];
    return {
      team, members, claimedMembers, membership,
      children: targets('parentOf'),
      owned: this.index.ownedBy([key]).map((k) => this.index.view(k)!),
      onCall: team.spec.onCall,
    };
  }
}

/**
 * The search box's own syntax: `kind:service owner:payments tag:java rest words` work as filters
 * inside the text too (the box wins over the parameters; an owner from the box is blamed on `q`).
 */
export function parseSearchBox(q: string, given: { kind?: string; owner?: string; tag?: string } = {}): {
  text: string; kind?: string; owner?: string; ownerField: string; tag?: string;
} {
  const box = boxFilters(q);
  return {
    text: box.text, kind: box.kind ?? given.kind, tag: box.tag ?? given.tag,
    owner: box.owner ?? given.owner, ownerField: box.owner !== undefined ? 'q' : 'owner',
  };
}

/** `fields` projection: dotted paths, the identity fields always kept. */
export function project(e: Entity, fields?: string[]): Entity | Record<string, unknown> {
  if (!fields?.length) return e;
  const out: Record<string, unknown> = { apiVersion: e.apiVersion, kind: e.kind, metadata: { name: e.metadata.name, namespace: e.metadata.namespace } };
  for (const path of fields) {
    const v = pathValue(e, path);
    if (v === undefined) continue;
    const parts = path.split('.');
    let cur = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      const child = Object.hasOwn(cur, p) ? cur[p] : undefined;
      if (typeof child !== 'object' || child === null) own(cur, p, {});
      cur = cur[p] as Record<string, unknown>;
    }
    own(cur, parts[parts.length - 1]!, v);
  }
  return out;
}

/** Sets an own field, whatever its name (`__proto__` from a query path stays a plain field). */
function own(o: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * An owner filter as people write it (`payments`, `team:payments`, `user:default/jane`). One that
 * cannot be parsed fails closed: ignoring it would answer with the whole catalog.
 */
export function ownerKeyOf(owner: string, field = 'owner'): string {
  try {
    return refKey(parseRef(owner, { kind: 'team' }));
  } catch (err) {
    throw new QueryError([{ path: field, message: `'${owner.slice(0, 80)}' is not an owner reference (${(err as Error).message})` }]);
  }
}

// The catalog's REST resources: entities, relations, search, teams and the signed-in user's view.
// Request schemas here validate requests; response schemas are in ../schemas/catalog.ts. Both make /api/v1/openapi.json.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { rightsFor, type AuthEnv, type Principal } from '../auth.ts';
import type { ApiDeps, EntityRef } from '../deps.ts';
import { ProblemError } from '../problem.ts';
import { apiApp, conforming, json, jsonText, problems, type ApiApp } from '../openapi.ts';
import {
  EntityPageSchema, MeSchema, PullRequestSchema, RelationListSchema, SearchResultSchema, StoredEntitySchema, TeamSchema,
  type ListedEntity, type SearchResult, type StoredEntity,
} from '../schemas/catalog.ts';
import { RunSchema } from '../schemas/reconcile.ts';
import { canonicalKind, KINDS, MetadataSchema, RelationDeclSchema, type Entity, type SourceInfo } from '../../catalog/kinds.ts';
import { ConcurrencyError } from '../../catalog/service.ts';
import { entityRefOf, KIND_ALIASES, normalizeRef, NAME_RE } from '../../catalog/refs.ts';
import { authoriseWrite, keepClaims, ownerOf } from '../write-rules.ts';

export { ownerOf } from '../write-rules.ts';

// Backstage's naming rules (refs.ts NAME_RE): the same names the catalog stores can be addressed.
const name = (what: string) => z.string().max(63).regex(NAME_RE, `${what} must be 1-63 of A-Z a-z 0-9 - _ ., beginning and ending with a letter or digit`);

// The envelope is the catalog's own (functions/catalog/kinds.ts); the spec is checked per kind by the
// catalog service, whose errors come back as problems naming the field (body.spec.<field>).
export const EntitySchema = z
  .object({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    metadata: MetadataSchema.loose(),
    spec: z.record(z.string(), z.unknown()).optional(),
    relations: z.array(RelationDeclSchema.loose()).optional(),
  })
  .loose()
  .openapi('Entity');

/** A kind in a path: a Nexus kind or a Backstage alias of one (component, group, resource), any case. */
const knownKind = (k: string) => canonicalKind(KIND_ALIASES.get(k.toLowerCase()) ?? k) !== undefined;
const pathKind = z.string().max(63, 'kind must be at most 63 characters').regex(/^[A-Za-z][A-Za-z0-9]*$/, 'kind must be letters and digits')
  .refine(knownKind, `kind must be one of ${KINDS.join(', ')} (or component, group, resource)`);

const RefParams = z.object({
  kind: pathKind.openapi({ param: { name: 'kind', in: 'path' }, example: 'service' }),
  namespace: name('namespace').openapi({ param: { name: 'namespace', in: 'path' }, example: 'default' }),
  name: name('name').openapi({ param: { name: 'name', in: 'path' }, example: 'payments' }),
});

const ListQuerySchema = z.object({
  kind: z.string().optional(),
  owner: z.string().optional(),
  tag: z.string().optional(),
  filter: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({ description: 'field=value on any dotted field path, e.g. spec.lifecycle=production; repeatable' }),
  fields: z.string().optional().openapi({ description: 'comma-separated dotted field paths to return' }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});

const SearchQuerySchema = z.object({
  q: z.string().min(1, 'q must not be empty').max(200),
  kind: z.string().optional(),
  owner: z.string().optional(),
  tag: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const listRoute = createRoute({
  method: 'get', path: '/api/v1/entities', tags: ['catalog'], summary: 'List entities, filtered and paged',
  request: { query: ListQuerySchema },
  responses: { 200: json(EntityPageSchema, 'a page of entities'), ...problems(400, 401) },
});
const getRoute = createRoute({
  method: 'get', path: '/api/v1/entities/{kind}/{namespace}/{name}', tags: ['catalog'], summary: 'One entity',
  request: { params: RefParams },
  responses: { 200: json(StoredEntitySchema, 'the entity'), ...problems(400, 401, 404) },
});
const putRoute = createRoute({
  method: 'put', path: '/api/v1/entities/{kind}/{namespace}/{name}', tags: ['catalog'], summary: 'Create or replace an entity',
  request: { params: RefParams, body: { required: true, content: { 'application/json': { schema: EntitySchema } } } },
  responses: { 200: json(StoredEntitySchema, 'replaced'), 201: json(StoredEntitySchema, 'created'), ...problems(400, 401, 403, 412) },
});
const deleteRoute = createRoute({
  method: 'delete', path: '/api/v1/entities/{kind}/{namespace}/{name}', tags: ['catalog'], summary: 'Delete an entity',
  request: { params: RefParams },
  responses: { 204: { description: 'deleted' }, ...problems(400, 401, 403, 404, 412) },
});
const relationsRoute = createRoute({
  method: 'get', path: '/api/v1/entities/{kind}/{namespace}/{name}/relations', tags: ['catalog'], summary: "An entity's relations, both directions",
  request: { params: RefParams },
  responses: { 200: json(RelationListSchema, 'relations'), ...problems(400, 401, 404) },
});
const searchRoute = createRoute({
  method: 'get', path: '/api/v1/search', tags: ['catalog'], summary: 'Ranked search across every kind, with facets',
  request: { query: SearchQuerySchema },
  responses: {
    200: json(SearchResultSchema, 'hits and facets'),
    ...problems(400, 401),
  },
});
const teamRoute = createRoute({
  method: 'get', path: '/api/v1/teams/{name}', tags: ['catalog'], summary: 'A team: members, owned entities, on-call',
  request: { params: z.object({ name: name('name').openapi({ param: { name: 'name', in: 'path' } }) }) },
  responses: { 200: json(TeamSchema, 'the team'), ...problems(400, 401, 404) },
});
const meRoute = createRoute({
  method: 'get', path: '/api/v1/me', tags: ['catalog'], summary: "The signed-in user's dashboard data",
  responses: { 200: json(MeSchema, 'teams, owned entities, recent runs, open pull requests, environments'), ...problems(401) },
});

const RecentRunsSchema = z.array(RunSchema);
const PullRequestsSchema = z.array(PullRequestSchema);

function refOf(p: { kind: string; namespace: string; name: string }): EntityRef {
  return { kind: p.kind, namespace: p.namespace, name: p.name };
}

function etagOf(entity: { metadata: { etag?: string } }): string | undefined {
  const etag = entity.metadata.etag;
  return typeof etag === 'string' ? etag : undefined;
}

const MAX_FILTERS = 20;

/** `?filter=spec.lifecycle=production&filter=metadata.tags=x` → { 'spec.lifecycle': 'production', ... } */
function parseFilters(filter: string | string[] | undefined): Record<string, string> | undefined {
  if (filter === undefined) return undefined;
  const all = Array.isArray(filter) ? filter : [filter];
  // Each filter is matched against every entity: a handful is what people write.
  if (all.length > MAX_FILTERS) throw new ProblemError(400, `query.filter: at most ${MAX_FILTERS} filters, got ${all.length}`, { field: 'query.filter' });
  // No prototype: a field path named `__proto__` or `constructor` is a key like any other.
  const out: Record<string, string> = Object.create(null);
  for (const f of all) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new ProblemError(400, `query.filter: "${f}" is not field=value`, { field: 'query.filter' });
    out[f.slice(0, eq).trim()] = f.slice(eq + 1);
  }
  return out;
}

async function rights(c: Context<AuthEnv>, deps: ApiDeps, owner: string | undefined) {
  const principal = c.get('principal');
  return rightsFor(principal, owner, deps.catalog.identify(principal));
}

/** The source of a write through the API: the actor is the caller's User when the catalog knows it. */
export function apiSource(deps: ApiDeps, principal: Principal, name = 'api', scope?: string): SourceInfo {
  const { user } = deps.catalog.identify(principal);
  return { name, ...(scope ? { scope } : {}), actor: user ?? principal.id, groups: principal.groups };
}

/**
 * The stored version a write is authorised against and pinned to (its ETag is the write's
 * condition, whatever the client sent). A client's If-Match must name that version: when it
 * differs from this instance's copy, the table is read (this instance may be behind) and a
 * mismatch still is a 412. `If-Match: *` only says the entity must exist.
 */
async function authorisedRow(catalog: ApiDeps['catalog'], ref: EntityRef, ifMatch: string | undefined): Promise<Entity | undefined> {
  const what = `${ref.kind}:${ref.namespace}/${ref.name}`;
  let row = await catalog.get(ref);
  const pinned = (e: Entity | undefined) => !e || (!!etagOf(e) && (!ifMatch || ifMatch === '*' || ifMatch === etagOf(e)));
  if (!pinned(row)) row = await catalog.get(ref, { consistent: true });
  if (ifMatch && !row) throw new ProblemError(412, `If-Match given but ${what} does not exist`);
  if (row && ifMatch && ifMatch !== '*' && ifMatch !== etagOf(row)) {
    throw new ProblemError(412, `If-Match does not match the ETag of ${what}: it changed since it was read; read it again`);
  }
  return row;
}

export function catalogRoutes(deps: ApiDeps): ApiApp {
  const app = apiApp();
  const { catalog } = deps;

  // Rights on the stored entity, from the path alone, before the body is read and validated: a
  // caller who may not write it cannot make the API parse and check bodies for it. (The handler
  // checks again against the row it pins, and the body's owner for a new entity.)
  const mayWriteTarget: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const p = RefParams.safeParse(c.req.param());
    const principal = c.get('principal');
    if (p.success && !principal.roles.includes('Admin')) {
      const ref = refOf(p.data);
      const row = await catalog.get(ref);
      if (row && !(await rights(c, deps, ownerOf(row))).write) {
        throw new ProblemError(403, `${principal.name} may not change ${ref.kind}:${ref.namespace}/${ref.name} (owned by ${ownerOf(row) ?? 'nobody'})`, { field: 'path' });
      }
    }
    await next();
  };

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const page = await catalog.list({
      kind: q.kind, owner: q.owner, tag: q.tag, filters: parseFilters(q.filter),
      fields: q.fields?.split(',').map((f) => f.trim()).filter(Boolean), limit: q.limit, cursor: q.cursor,
    });
    // Every item is an entity, or (with `fields`) its projection, which keeps kind, name and namespace.
    return c.json({ ...page, items: page.items as ListedEntity[] }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const ref = refOf(c.req.valid('param'));
    // The catalog keeps each entity's JSON until the next write: reads far outnumber writes.
    const found = await catalog.getJson(ref);
    if (!found) throw new ProblemError(404, `no entity ${ref.kind}:${ref.namespace}/${ref.name}`);
    return jsonText<StoredEntity, 200>(c, found.json, 200, found.etag ? { etag: found.etag } : {});
  });

  app.openapi({ ...putRoute, middleware: [mayWriteTarget] }, async (c) => {
    const ref = refOf(c.req.valid('param'));
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const by = apiSource(deps, principal);
    const pathKey = normalizeRef(`${ref.kind}:${ref.namespace}/${ref.name}`);
    const existing = await authorisedRow(catalog, ref, c.req.header('if-match'));
    const me = catalog.identify(principal);
    const doc = keepClaims(body, existing, principal);
    // The catalog's full check (spec per kind, references), so bad input is a 400 naming the field.
    const candidate = catalog.validate(doc, by);
    // The body must be the entity the path names (after Backstage mapping: a Component is a Service).
    const bodyKey = entityRefOf(candidate);
    if (bodyKey !== pathKey) {
      const [pk, pn] = [pathKey.split(':')[0], pathKey.split('/')[0]];
      const field = bodyKey.split(':')[0] !== pk ? 'body.kind' : bodyKey.split('/')[0] !== pn ? 'body.metadata.namespace' : 'body.metadata.name';
      throw new ProblemError(400, `${field}: the body is ${bodyKey} but the path names ${pathKey}`, { field });
    }
    // The same rules as every other write path (write-rules.ts): identity, Teams, owners.
    authoriseWrite({
      principal, me, existing, candidate,
      existingDeclared: existing ? catalog.index.getIndexed(pathKey)?.declared ?? [] : undefined,
      lookup: (key) => catalog.index.entity(key),
    });
    // Rights were checked against the entity as this instance knows it: the write goes through
    // only if the stored row is still that one (another instance may have changed or created it).
    let stored;
    try {
      stored = await catalog.upsert(doc, by, existing ? { ifMatch: etagOf(existing) } : { ifNoneMatch: '*' });
    } catch (err) {
      // Catch up with the stored row, so the caller's next try is checked against it (412 now).
      if (err instanceof ConcurrencyError) await catalog.get(ref, { consistent: true });
      throw err;
    }
    const etag = etagOf(stored);
    return c.json(stored, existing ? 200 : 201, etag ? { etag } : {});
  });

  app.openapi(deleteRoute, async (c) => {
    const ref = refOf(c.req.valid('param'));
    const ifMatch = c.req.header('if-match');
    const existing = await authorisedRow(catalog, ref, ifMatch);
    if (!existing) throw new ProblemError(404, `no entity ${ref.kind}:${ref.namespace}/${ref.name}`);
    const r = await rights(c, deps, ownerOf(existing));
    if (!r.admin) throw new ProblemError(403, `deleting ${ref.kind}:${ref.namespace}/${ref.name} needs Admin, or TeamLead of its owner`);
    // Only the row rights were checked against (another instance may have changed it since).
    try {
      await catalog.delete(ref, { ifMatch: etagOf(existing) });
    } catch (err) {
      if (err instanceof ConcurrencyError) await catalog.get(ref, { consistent: true });
      throw err;
    }
    return c.body(null, 204);
  });

  app.openapi(relationsRoute, async (c) => {
    const ref = refOf(c.req.valid('param'));
    if (!(await catalog.get(ref))) throw new ProblemError(404, `no entity ${ref.kind}:${ref.namespace}/${ref.name}`);
    const items = await catalog.relations(ref);
    return c.json({ items }, 200);
  });

  app.openapi(searchRoute, async (c) => {
    const q = c.req.valid('query');
    return jsonText<SearchResult, 200>(c, await catalog.searchJson(q), 200);
  });

  app.openapi(teamRoute, async (c) => {
    const { name: team } = c.req.valid('param');
    const found = await catalog.team(team);
    if (!found) throw new ProblemError(404, `no team ${team}`);
    return c.json(found, 200);
  });

  app.openapi(meRoute, async (c) => {
    const principal = c.get('principal');
    const data = await catalog.me(principal, { runs: deps.recentRuns });
    // The catalog does not know the shape of runs and pull requests (they come from elsewhere):
    // checked here, where the API promises them.
    const recentRuns = conforming(RecentRunsSchema, data.recentRuns, 'recent runs');
    const openPullRequests = conforming(PullRequestsSchema, data.openPullRequests, 'open pull requests');
    return c.json({ principal, ...data, recentRuns, openPullRequests }, 200);
  });
  return app;
}

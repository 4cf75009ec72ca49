// Response schemas of the catalog's resources (routes/catalog.ts), matching the catalog's types:
// Entity and EntityStatus (functions/catalog/kinds.ts), search hits and facets (memory-index.ts),
// a team and the signed-in user's view (catalog/service.ts team() and me()).
import { z } from '@hono/zod-openapi';
import { MetadataSchema, PullRequest } from '../../catalog/kinds.ts';
import { ROLES } from '../../platform/identity.ts';
import { RunSchema } from './reconcile.ts';

/** A relation as the catalog returns it: resolved when the target exists. */
export const RelationSchema = z.object({ type: z.string(), targetRef: z.string(), resolved: z.boolean().optional() }).openapi('Relation');

export const SourceSchema = z.object({
  name: z.string(), scope: z.string().optional(), ref: z.string().optional(), actor: z.string().optional(), groups: z.array(z.string()).optional(),
});

export const EntityStatusSchema = z.object({
  source: SourceSchema, lastSeen: z.string(), createdAt: z.string(),
  orphaned: z.boolean().optional(), orphanedAt: z.string().optional(),
  owner: z.string().optional(), ownerSource: z.enum(['owner', 'codeowners', 'azure-tags', 'entra']).optional(),
  // Every source that has written the entity, by source and scope (catalog/service.ts Sources).
  sources: z.record(z.string(), z.object({
    name: z.string(), scope: z.string().optional(), ref: z.string().optional(), lastSeen: z.string(), gone: z.boolean().optional(),
  })).optional(),
}).openapi('EntityStatus');

/** A stored entity: the envelope is checked by the catalog; the spec per kind (see /api/v1/entities). */
export const StoredEntitySchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: MetadataSchema.extend({ namespace: z.string() }),
  spec: z.record(z.string(), z.unknown()),
  relations: z.array(RelationSchema),
  status: EntityStatusSchema.optional(),
}).openapi('StoredEntity');

/**
 * An entity in a list: the whole entity, or (with `fields`) only the fields asked for; the kind,
 * name and namespace are always there.
 */
export const ListedEntitySchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string() }),
}).openapi('ListedEntity');

export const EntityPageSchema = z.object({
  items: z.array(ListedEntitySchema),
  cursor: z.string().optional().openapi({ description: 'the next page: pass it as ?cursor=' }),
  nextCursor: z.string().optional().openapi({ description: 'the same as cursor' }),
}).openapi('EntityPage');

export const RelationListSchema = z.object({ items: z.array(RelationSchema) });

/** What a search hit carries: enough to list and link the entity. */
export const EntitySummarySchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({ name: z.string(), namespace: z.string(), title: z.string().optional(), description: z.string().optional(), tags: z.array(z.string()).optional(), etag: z.string() }),
  spec: z.object({ owner: z.string().optional(), type: z.string().optional(), lifecycle: z.string().optional() }),
  status: z.object({ owner: z.string().optional(), orphaned: z.boolean().optional() }).optional(),
}).openapi('EntitySummary');

const Counts = z.record(z.string(), z.number().int());
export const FacetsSchema = z.object({ kind: Counts, owner: Counts, tag: Counts, lifecycle: Counts }).openapi('Facets');

export const SearchResultSchema = z.object({
  items: z.array(z.object({ entity: EntitySummarySchema, score: z.number() })),
  facets: FacetsSchema,
  total: z.number().int(),
}).openapi('SearchResult');

export const TeamSchema = z.object({
  team: StoredEntitySchema,
  members: z.array(StoredEntitySchema).openapi({ description: 'Users the Team lists (spec.members): they get its rights' }),
  claimedMembers: z.array(StoredEntitySchema).openapi({ description: 'Users naming the Team in memberOf without the Team listing them: shown, grant nothing' }),
  membership: z.array(z.object({ user: z.string(), grantsRights: z.boolean(), declaredBy: z.enum(['team', 'user']) })),
  children: z.array(StoredEntitySchema),
  owned: z.array(StoredEntitySchema),
  onCall: z.unknown().optional().openapi({ description: "the Team's spec.onCall, as written" }),
}).openapi('Team');

export const PrincipalSchema = z.object({
  id: z.string(), name: z.string(), email: z.string().optional(), roles: z.array(z.enum(ROLES)), groups: z.array(z.string()), local: z.boolean().optional(),
}).openapi('Principal');

/**
 * An open pull request of a repository the user's teams own, or one the user wrote: the pull
 * request as the Repository keeps it (spec.openPullRequests) and the repository's ref.
 */
export const PullRequestSchema = PullRequest.extend({ repository: z.string() }).openapi('OpenPullRequest');

export const MeSchema = z.object({
  principal: PrincipalSchema,
  user: StoredEntitySchema.optional(),
  teams: z.array(StoredEntitySchema),
  owned: z.array(StoredEntitySchema),
  recentRuns: z.array(RunSchema),
  openPullRequests: z.array(PullRequestSchema),
  environments: z.array(StoredEntitySchema),
}).openapi('Me');

export type Relation = z.infer<typeof RelationSchema>;
export type StoredEntity = z.infer<typeof StoredEntitySchema>;
export type ListedEntity = z.infer<typeof ListedEntitySchema>;
export type EntityPage = z.infer<typeof EntityPageSchema>;
export type EntitySummary = z.infer<typeof EntitySummarySchema>;
export type SearchResult = z.infer<typeof SearchResultSchema>;
export type Team = z.infer<typeof TeamSchema>;
export type Me = z.infer<typeof MeSchema>;

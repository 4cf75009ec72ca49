// The shapes the in-memory index takes in and gives out (shared by its parts and by the service).
import type { Entity } from '../kinds.ts';

export interface Indexed {
  key: string;
  entity: Entity; // without `relations` filled in: those come from the graph
  etag: string;
  /** Declared (outgoing) relations of this entity, as keys. */
  declared: Array<{ type: string; target: string }>;
  /** The table row's write count: an older version never replaces a newer one. */
  version?: number;
}

/** What a search hit carries: enough to list and link the entity; GET by name has the whole of it. */
export interface EntitySummary {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; title?: string; description?: string; tags?: string[]; etag: string };
  spec: { owner?: string; type?: string; lifecycle?: string };
  status?: { owner?: string; orphaned?: boolean };
}

export type SearchHit = {
  entity: EntitySummary;
  score: number;
};

export type Facets = {
  kind: Record<string, number>;
  owner: Record<string, number>;
  tag: Record<string, number>;
  lifecycle: Record<string, number>;
};

export type SearchResult = { items: SearchHit[]; facets: Facets; total: number };

/** Exact-value filters of a search or a listing (kind lower-cased by the index; owner and tag as stored). */
export type SearchFilters = { kind?: string; owner?: string; tag?: string };

// The search documents: a small number per indexed entity (reused after removal), the columns
// filters and facets read, and the facet counting itself.
import type { Entity } from '../kinds.ts';
import { Dictionary } from './dictionary.ts';
import { DocColumns, nameCode } from './doc-columns.ts';
import type { Facets } from './types.ts';

export interface Doc {
  key: string;
  tokens: Map<string, number>;
  nameLower: string;
  /** Tags after the first two (those live in DocColumns). */
  moreTags?: number[];
}

export type FacetCounts = { kind: Int32Array; owner: Int32Array; tag: Int32Array; lifecycle: Int32Array };

/** How many owners and tags the facets list (kinds and lifecycles: all of them). */
const FACET_TOP = 20;

export class DocStore {
  readonly docs: Array<Doc | undefined> = [];
  readonly cols = new DocColumns();
  readonly facetIds = { kind: new Dictionary(), kindLower: new Dictionary(), owner: new Dictionary(), tag: new Dictionary(), lifecycle: new Dictionary() };
  private readonly ids = new Map<string, number>();
  private readonly free: number[] = [];

  /** One past the highest doc id ever used: the length scratch arrays need. */
  get capacity(): number {
    return this.docs.length;
  }

  idOf(key: string): number | undefined {
    return this.ids.get(key);
  }

  /** Gives the entity a doc id and fills in its columns. */
  add(key: string, e: Entity, tokens: Map<string, number>): number {
    const f = this.facetIds;
    const id = this.free.pop() ?? this.docs.length;
    this.ids.set(key, id);
    const lifecycle = typeof e.spec.lifecycle === 'string' ? e.spec.lifecycle : undefined;
    const tags = [...new Set(e.metadata.tags ?? [])].map((t) => f.tag.id(t));
    const nameLower = e.metadata.name.toLowerCase();
    this.docs[id] = { key, tokens, nameLower, ...(tags.length > 2 ? { moreTags: tags.slice(2) } : {}) };
    const c = this.cols;
    c.ensure(id + 1);
    c.kind[id] = f.kind.id(e.kind);
    c.kindLower[id] = f.kindLower.id(e.kind.toLowerCase());
    c.owner[id] = e.status?.owner ? f.owner.id(e.status.owner) : -1;
    c.lifecycle[id] = lifecycle ? f.lifecycle.id(lifecycle) : -1;
    c.tag0[id] = tags[0] ?? -1;
    c.tag1[id] = tags[1] ?? -1;
    c.orphaned[id] = e.status?.orphaned ? 1 : 0;
    c.nameCode[id] = nameCode(nameLower);
    c.name0[id] = nameLower.charCodeAt(0);
    return id;
  }

  /** Frees the entity's doc id; returns the doc that had it. */
  remove(key: string): { id: number; doc: Doc } | undefined {
    const id = this.ids.get(key);
    if (id === undefined) return undefined;
    const doc = this.docs[id]!;
    this.docs[id] = undefined;
    this.ids.delete(key);
    this.free.push(id);
    return { id, doc };
  }

  hasTag(doc: number, tag: number): boolean {
    return this.cols.tag0[doc] === tag || this.cols.tag1[doc] === tag || (this.docs[doc]!.moreTags?.includes(tag) ?? false);
  }

  facetCounters(): FacetCounts {
    const f = this.facetIds;
    return {
      kind: new Int32Array(f.kind.size), owner: new Int32Array(f.owner.size),
      tag: new Int32Array(f.tag.size), lifecycle: new Int32Array(f.lifecycle.size),
    };
  }

  count(f: FacetCounts, doc: number): void {
    const c = this.cols;
    f.kind[c.kind[doc]!]!++;
    const owner = c.owner[doc]!, life = c.lifecycle[doc]!, t0 = c.tag0[doc]!, t1 = c.tag1[doc]!;
    if (owner >= 0) f.owner[owner]!++;
    if (life >= 0) f.lifecycle[life]!++;
    if (t0 >= 0) f.tag[t0]!++;
    if (t1 >= 0) {
      f.tag[t1]!++;
      for (const t of this.docs[doc]!.moreTags ?? []) f.tag[t]!++;
    }
  }

  facetsFrom(c: FacetCounts): Facets {
    const f = this.facetIds;
    return { kind: f.kind.top(c.kind), owner: f.owner.top(c.owner, FACET_TOP), tag: f.tag.top(c.tag, FACET_TOP), lifecycle: f.lifecycle.top(c.lifecycle) };
  }
}

// What of an entity search sees: the words it is found by (weighted by the field they come from)
// and the summary a hit shows.
import type { Entity } from '../kinds.ts';
import { tokenize } from '../tokenize.ts';
import type { EntitySummary, Indexed } from './types.ts';

/** Weight of a word by where it was found: a hit on the name ranks above one in the description. */
export const FIELD_WEIGHTS = { name: 10, title: 8, tag: 6, kind: 4, owner: 3, description: 2, spec: 1 } as const;

/** The spec fields whose text is searchable. */
export const SEARCHED_SPEC_FIELDS = ['type', 'lifecycle', 'stage', 'region', 'sku', 'state', 'severity', 'status', 'provider', 'language', 'version', 'project', 'resourceGroup', 'summary', 'title', 'assignee', 'sprint'];

/** The spec fields a search hit keeps. */
const SUMMARY_SPEC = ['owner', 'type', 'lifecycle'] as const;

/** Each word of the entity with the weight of the best field it appears in. */
export function searchTokens(e: Entity): Map<string, number> {
  const W = FIELD_WEIGHTS;
  const tokens = new Map<string, number>();
  const add = (text: unknown, weight: number) => {
    if (typeof text !== 'string') return;
    for (const t of tokenize(text)) if ((tokens.get(t) ?? 0) < weight) tokens.set(t, weight);
  };
  add(e.metadata.name, W.name);
  add(e.metadata.title, W.title);
  for (const t of e.metadata.tags ?? []) add(t, W.tag);
  add(e.kind, W.kind);
  add(e.status?.owner?.split('/').pop(), W.owner);
  add(e.metadata.description, W.description);
  for (const f of SEARCHED_SPEC_FIELDS) add(e.spec[f], W.spec);
  return tokens;
}

/** What a search hit shows: who and what it is, not the whole document (GET has that). */
export function summaryOf(item: Indexed): EntitySummary {
  const { metadata: m, spec, status } = item.entity;
  const specOut: EntitySummary['spec'] = {};
  for (const f of SUMMARY_SPEC) if (typeof spec[f] === 'string') specOut[f] = spec[f] as string;
  return {
    apiVersion: item.entity.apiVersion,
    kind: item.entity.kind,
    metadata: {
      name: m.name, namespace: m.namespace,
      ...(m.title !== undefined ? { title: m.title } : {}),
      ...(m.description !== undefined ? { description: m.description } : {}),
      ...(m.tags?.length ? { tags: m.tags } : {}),
      etag: item.etag,
    },
    spec: specOut,
    ...(status ? { status: { ...(status.owner ? { owner: status.owner } : {}), ...(status.orphaned ? { orphaned: true } : {}) } } : {}),
  };
}

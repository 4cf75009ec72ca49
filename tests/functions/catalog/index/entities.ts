// Index entries for the index's own tests: an entity as the service would hand it to the index.
import type { Entity } from '../../../../functions/catalog/kinds.ts';
import type { Indexed } from '../../../../functions/catalog/memory-index.ts';

export interface ItemSpec {
  kind?: string;
  name: string;
  title?: string;
  description?: string;
  tags?: string[];
  owner?: string;
  orphaned?: boolean;
  createdAt?: string;
  spec?: Record<string, unknown>;
  annotations?: Record<string, string>;
  declared?: Array<{ type: string; target: string }>;
  version?: number;
}

export function item(s: ItemSpec): Indexed {
  const kind = s.kind ?? 'Service';
  const entity = {
    apiVersion: 'nexus/v1',
    kind,
    metadata: {
      name: s.name, namespace: 'default',
      ...(s.title !== undefined ? { title: s.title } : {}),
      ...(s.description !== undefined ? { description: s.description } : {}),
      ...(s.tags ? { tags: s.tags } : {}),
      ...(s.annotations ? { annotations: s.annotations } : {}),
    },
    spec: s.spec ?? {},
    relations: [],
    status: {
      source: { name: 'test' }, lastSeen: '2026-01-01T00:00:00Z', createdAt: s.createdAt ?? '2026-01-01T00:00:00Z',
      ...(s.owner ? { owner: s.owner } : {}), ...(s.orphaned ? { orphaned: true } : {}),
    },
  } as unknown as Entity;
  return { key: `${kind.toLowerCase()}:default/${s.name}`, entity, etag: 'e1', declared: s.declared ?? [], version: s.version };
}

// A catalog service on its own fresh tables in the test process's Azurite.
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { CatalogService, type CatalogConfig } from '../../../functions/catalog/service.ts';

export async function freshTables(): Promise<{ entities: string; relations: string; storage: ReturnType<typeof storageConfig> }> {
  const { connectionString } = await azurite();
  const id = randomBytes(4).toString('hex');
  return { entities: `cat${id}`, relations: `rel${id}`, storage: storageConfig({ connectionString: connectionString }) };
}

export async function freshCatalog(extra: Partial<CatalogConfig> = {}): Promise<CatalogService> {
  const t = await freshTables();
  return CatalogService.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations }, ...extra });
}

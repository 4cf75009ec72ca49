// An entity must fit one Azure Table row: 1 MiB, strings counted as UTF-16 (2 bytes a character).
// Azurite does not enforce that limit, so the catalog does, before anything is written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalog } from './fresh.ts';
import { ValidationError } from '../../../functions/catalog/service.ts';

const svc = (name: string, notes: string) => ({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name }, spec: { owner: 'team:ops', notes } });

test('an entity whose document would not fit a row in Azure is refused; one that fits is stored', async () => {
  const catalog = await freshCatalog();
  // 460,000 characters are 920,000 bytes: with the rest of the row, over 1 MiB.
  const err = await catalog.upsert(svc('too-big', 'n'.repeat(460_000)), { name: 'test' }).then(() => undefined, (e) => e);
  assert.ok(err instanceof ValidationError, String(err));
  assert.match((err as Error).message, /larger than 450000 characters/);
  assert.is(await catalog.get('service:default/too-big', { consistent: true }), undefined);
  const ok = await catalog.upsert(svc('fits', 'n'.repeat(400_000)), { name: 'test' });
  assert.is((ok.spec.notes as string).length, 400_000);
});

test.run();

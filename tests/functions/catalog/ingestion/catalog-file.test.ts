import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshCatalog } from '../fresh.ts';
import { importCatalogFile } from '../../../../functions/catalog/ingestion/catalog-file.ts';
import { ValidationError, type Entity } from '../../../../functions/catalog/kinds.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/catalog/backstage');
const read = (target: string) => readFile(join(fixtures, target), 'utf8');
const source = { name: 'catalog-file', scope: 'acme/catalog' };

function rel(e: Entity | undefined, type: string, target: string): boolean {
  return !!e?.relations.some((r) => r.type === type && r.targetRef === target && r.resolved);
}

test('imports Backstage files through a Location, mapping kinds and resolving every relation both ways', async () => {
  const catalog = await freshCatalog();
  const res = await importCatalogFile(catalog, await read('all.yaml'), { fileName: 'all.yaml', source, read: (t) => read(t) });
  assert.is(res.entities.length, 11);
  const kinds = Object.fromEntries(res.entities.map((e) => [e.metadata.name, e.kind]));
  assert.equal(kinds, {
    commerce: 'Domain', payments: 'System', platform: 'Team', 'payments-team': 'Team', 'jane.doe': 'User', 'omar.khan': 'User',
    'payments-api': 'Service', 'checkout-web': 'Service', 'money-lib': 'Package', 'payments-rest': 'API', 'payments-db': 'AzureResource',
  });
  const svc = await catalog.get('service:default/payments-api');
  assert.is(svc?.metadata.annotations?.['github.com/project-slug'], 'acme/payments-api');
  assert.is(svc?.metadata.annotations?.['backstage.io/managed-by-location'], 'file:./payments.yaml');
  assert.ok(rel(svc, 'ownedBy', 'team:default/payments-team'));
  assert.ok(rel(svc, 'partOf', 'system:default/payments'));
  assert.ok(rel(svc, 'providesApi', 'api:default/payments-rest'));
  assert.ok(rel(svc, 'dependsOn', 'azureresource:default/payments-db'));
  // Referenced but not in any file: kept, not resolved.
  assert.ok(svc!.relations.some((r) => r.type === 'consumesApi' && r.targetRef === 'api:default/ledger-events' && !r.resolved));
  assert.ok(svc!.relations.some((r) => r.type === 'dependsOn' && r.targetRef === 'service:default/fraud-scorer' && !r.resolved));

  const team = await catalog.get('team:payments-team');
  for (const [type, target] of [
    ['ownerOf', 'service:default/payments-api'], ['ownerOf', 'service:default/checkout-web'], ['ownerOf', 'package:default/money-lib'],
    ['ownerOf', 'api:default/payments-rest'], ['ownerOf', 'azureresource:default/payments-db'], ['ownerOf', 'system:default/payments'],
    ['hasMember', 'user:default/jane.doe'], ['childOf', 'team:default/platform'],
  ]) assert.ok(rel(team, type!, target!), `payments-team ${type} ${target}`);
  assert.ok(rel(await catalog.get('team:platform'), 'parentOf', 'team:default/payments-team'));
  assert.ok(rel(await catalog.get('team:platform'), 'hasMember', 'user:default/omar.khan'));
  assert.ok(rel(await catalog.get('api:payments-rest'), 'apiProvidedBy', 'service:default/payments-api'));
  assert.ok(rel(await catalog.get('api:payments-rest'), 'apiConsumedBy', 'service:default/checkout-web'));
  assert.ok(rel(await catalog.get('system:payments'), 'partOf', 'domain:default/commerce'));
  assert.ok(rel(await catalog.get('domain:commerce'), 'hasPart', 'system:default/payments'));
  assert.ok(rel(await catalog.get('user:jane.doe'), 'memberOf', 'team:default/payments-team'));
  assert.ok(rel(await catalog.get('azureresource:payments-db'), 'dependencyOf', 'service:default/payments-api'));
  // The relations table has the same both sides.
  const rows = await catalog.relations('system:payments');
  assert.ok(rows.some((r) => r.type === 'hasPart' && r.targetRef === 'service:default/payments-api'));
  assert.ok(rows.some((r) => r.type === 'ownedBy' && r.targetRef === 'team:default/payments-team'));
  // Search finds them at once.
  assert.equal((await catalog.search('payments api')).items[0]?.entity.metadata.name, 'payments-api');
});

const LIB = 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: money-lib\nspec:\n  type: library\n  lifecycle: production\n  owner: payments\n';
const USES_LIB = 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: billing\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n  dependsOn: [component:money-lib, component:default/ledger]\n';

test('component: references find a library Component stored as a Package, whichever arrives first', async () => {
  for (const order of [[USES_LIB, LIB], [LIB, USES_LIB]]) {
    const catalog = await freshCatalog();
    await importCatalogFile(catalog, order.join('---\n'), { fileName: 'catalog-info.yaml', source });
    const billing = await catalog.get('service:billing');
    assert.ok(rel(billing, 'dependsOn', 'package:default/money-lib'), JSON.stringify(billing?.relations));
    assert.ok(!billing!.relations.some((r) => r.targetRef === 'service:default/money-lib'), 'no dangling service:money-lib left');
    assert.ok(rel(await catalog.get('package:money-lib'), 'dependencyOf', 'service:default/billing'));
    assert.ok((await catalog.relations('package:money-lib')).some((r) => r.type === 'dependencyOf' && r.targetRef === 'service:default/billing'));
    // A component that is not there yet stays a (dangling) Service reference.
    assert.ok(billing!.relations.some((r) => r.type === 'dependsOn' && r.targetRef === 'service:default/ledger' && !r.resolved));
  }
});

test('a file with one bad document stores nothing and names file, document and field', async () => {
  const catalog = await freshCatalog();
  try {
    await importCatalogFile(catalog, await read('invalid.yaml'), { fileName: 'invalid.yaml', source });
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, ValidationError);
    const paths = (err as ValidationError).issues.map((i) => i.path);
    assert.ok(paths.includes('invalid.yaml[document 2].metadata.name'), paths.join());
    assert.ok(paths.includes('invalid.yaml[document 2].spec.owner'), paths.join());
    assert.ok(paths.includes('invalid.yaml[document 3].spec.definition'), paths.join());
    assert.match((err as Error).message, /invalid\.yaml/);
  }
  assert.is(catalog.index.size, 0);
  assert.is(await catalog.get('service:good-one', { consistent: true }), undefined);
});

test('YAML syntax errors name the file and document', async () => {
  const catalog = await freshCatalog();
  try {
    await importCatalogFile(catalog, 'apiVersion: nexus/v1\nkind: Service\nmetadata: {name: a\n', { fileName: 'broken.yaml', source });
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, ValidationError);
    assert.match((err as ValidationError).issues[0]!.path, /^broken\.yaml\[document 1\]/);
    assert.match((err as ValidationError).issues[0]!.message, /^YAML/);
  }
});

test('entities dropped from a file are orphaned on the next import', async () => {
  const catalog = await freshCatalog();
  const two = `apiVersion: nexus/v1\nkind: Service\nmetadata: {name: one}\nspec: {}\n---\napiVersion: nexus/v1\nkind: Service\nmetadata: {name: two}\nspec: {}\n`;
  await importCatalogFile(catalog, two, { fileName: 'catalog-info.yaml', source });
  const res = await importCatalogFile(catalog, two.split('---')[0]!, { fileName: 'catalog-info.yaml', source });
  assert.equal(res.orphaned, ['service:default/two']);
  assert.is((await catalog.get('service:two'))?.status?.orphaned, true);
  assert.not.ok((await catalog.get('service:one'))?.status?.orphaned);
});

test.run();

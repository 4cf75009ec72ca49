import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshCatalog } from '../fresh.ts';
import { importCatalogFile } from '../../../../functions/catalog/ingestion/catalog-file.ts';
import { ValidationError, type Entity } from '../../../../functions/catalog/kinds.ts';
import { entityRefOf } from '../../../../functions/catalog/refs.ts';

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
  assert.is(svc?.metadata.annotations?.['backstage.io/managed-by-location'], 'file:payments.yaml');
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

test('a file with one bad document imports the others and names file, document and field of the bad ones', async () => {
  const catalog = await freshCatalog();
  const res = await importCatalogFile(catalog, await read('invalid.yaml'), { fileName: 'invalid.yaml', source });
  assert.equal(res.entities.map(entityRefOf), ['service:default/good-one']);
  assert.equal(res.refused.map((r) => [r.file, r.document, r.ref]), [['invalid.yaml', 2, undefined], ['invalid.yaml', 3, 'api:default/no-definition']]);
  assert.equal(res.refused[0]!.errors!.map((e) => e.field).sort(), ['metadata.name', 'spec.owner']);
  assert.equal(res.refused[1]!.errors!.map((e) => e.field), ['spec.definition']);
  assert.ok(await catalog.get('service:good-one', { consistent: true }));
  // Document 2 names no usable entity: it could be one this file listed before, so nothing is orphaned.
  assert.match(res.orphaningSkipped ?? '', /invalid\.yaml\[document 2\]/);
});

test('a refused document that names its entity keeps it from being orphaned', async () => {
  const catalog = await freshCatalog();
  const two = 'apiVersion: nexus/v1\nkind: Service\nmetadata: {name: kept}\nspec: {}\n---\napiVersion: nexus/v1\nkind: Service\nmetadata: {name: other}\nspec: {}\n';
  await importCatalogFile(catalog, two, { fileName: 'catalog-info.yaml', source });
  const broken = two.replace('metadata: {name: kept}\nspec: {}', 'metadata: {name: kept}\nspec: {tier: [not, a, string]}');
  const res = await importCatalogFile(catalog, broken, { fileName: 'catalog-info.yaml', source });
  assert.equal(res.refused.map((r) => [r.ref, r.errors![0]!.field]), [['service:default/kept', 'spec.tier']]);
  assert.equal(res.orphaned, []);
  assert.not.ok((await catalog.get('service:kept'))?.status?.orphaned);
});

const API = (name: string, definition: string) => `apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: ${name}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: payments\n  definition:\n    ${definition}\n`;
const files = new Map([
  ['svc/defs/api.yaml', 'openapi: 3.1.0\n'],
  ['svc/defs/two.yaml', 'a: 1\n---\nb: 2\n'],
  ['svc/defs/form.yaml', 'title: Form\nproperties: {name: {type: string}}\n'],
  ['svc/defs/form.json', '{"title": "Json form"}'],
  ['secrets.txt', 'not yours'],
]);
const reader = { read: async (t: string) => { const c = files.get(t); if (c === undefined) throw new Error('no such file'); return c; } };

test('placeholders: $text, $json and $yaml relative to the file; the rest recorded as unresolved, the entity kept', async () => {
  const catalog = await freshCatalog();
  const text = [
    API('by-text', '$text: ./defs/api.yaml'),
    API('escapes', '$text: ../secrets.txt'),
    API('absolute', '$text: /etc/passwd'),
    API('missing', '$text: ./defs/nope.yaml'),
    API('by-url', '$text: https://example.invalid/api.yaml'),
    'apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: forms\nspec:\n  type: service\n  owner: payments\n  parameters:\n    - $yaml: ./defs/form.yaml\n    - $json: ./defs/form.json\n    - $yaml: ./defs/two.yaml\n    - {$ref: "#/x"}\n    - {$text: ./defs/api.yaml, other: kept as written}\n  steps: [{action: "debug:log"}]\n',
  ].join('---\n');
  const res = await importCatalogFile(catalog, text, { fileName: 'svc/catalog-info.yaml', source, content: reader });
  assert.equal(res.refused, []);
  assert.is((await catalog.get('api:by-text'))!.spec.definition, 'openapi: 3.1.0\n');
  const reasons = Object.fromEntries(res.unresolved.map((u) => [`${u.ref} ${u.field}`, u.reason]));
  assert.match(reasons['api:default/escapes spec.definition']!, /svc\/\.\.\/|secrets\.txt is outside the import root/);
  assert.match(reasons['api:default/absolute spec.definition']!, /absolute path is outside the import root/);
  assert.match(reasons['api:default/missing spec.definition']!, /cannot read svc\/defs\/nope\.yaml: no such file/);
  assert.match(reasons['api:default/by-url spec.definition']!, /URLs are not read/);
  assert.match(reasons['template:default/forms spec.parameters.2']!, /exactly one YAML document, not 2/);
  for (const name of ['escapes', 'absolute', 'missing', 'by-url']) {
    const e = (await catalog.get(`api:${name}`))!;
    assert.is(e.spec.definition, '', name);
    assert.match(e.metadata.annotations!['nexus.io/unresolved-placeholders']!, /^spec\.definition: \$text /, name);
  }
  const params = (await catalog.get('template:forms'))!.spec.parameters as unknown[];
  assert.equal(params, [
    { title: 'Form', properties: { name: { type: 'string' } } }, { title: 'Json form' },
    { $ref: '#/x' }, { $text: './defs/api.yaml', other: 'kept as written' },
  ]);
});

test('placeholders are limited: count per document, size of what they bring in, and depth', async () => {
  const catalog = await freshCatalog();
  const many = `apiVersion: nexus/v1\nkind: Service\nmetadata: {name: many}\nspec:\n  notes:\n${Array.from({ length: 25 }, () => '    - $text: ./defs/api.yaml').join('\n')}\n`;
  files.set('svc/defs/big.txt', 'x'.repeat(1_000_001));
  files.set('svc/defs/deep.json', '['.repeat(100) + ']'.repeat(100));
  const text = [many, API('big', '$text: ./defs/big.txt'), 'apiVersion: nexus/v1\nkind: Service\nmetadata: {name: deep}\nspec:\n  x: {$json: ./defs/deep.json}\n'].join('---\n');
  const res = await importCatalogFile(catalog, text, { fileName: 'svc/catalog-info.yaml', source, content: reader });
  assert.equal(res.entities.map(entityRefOf).sort(), ['api:default/big', 'service:default/deep', 'service:default/many']);
  const notes = (await catalog.get('service:many'))!.spec.notes as string[];
  assert.equal(notes, Array(20).fill('openapi: 3.1.0\n'), 'the first 20 resolved, the rest left out');
  assert.match(res.unresolved.find((u) => u.ref === 'service:default/many')!.reason, /more than 20 placeholders/);
  assert.match(res.unresolved.find((u) => u.ref === 'api:default/big')!.reason, /at most 1000000/);
  assert.match(res.unresolved.find((u) => u.ref === 'service:default/deep')!.reason, /nested more than 64 levels/);
});

test('an alias bomb names the file and document and stores nothing', async () => {
  const catalog = await freshCatalog();
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  try {
    await importCatalogFile(catalog, `apiVersion: nexus/v1\nkind: Service\nmetadata: {name: fine}\nspec: {}\n---\n${lines.join('\n')}\n`, { fileName: 'bomb.yaml', source });
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, ValidationError);
    assert.is((err as ValidationError).issues[0]!.path, 'bomb.yaml[document 2]');
    assert.match((err as ValidationError).issues[0]!.message, /too many aliases/);
  }
  assert.is(await catalog.get('service:fine', { consistent: true }), undefined);
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

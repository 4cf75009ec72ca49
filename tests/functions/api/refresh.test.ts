// Several API instances over one storage account: each answers reads, search and authorisation
// from its own in-memory index, which the composition root keeps fresh from the table. Real
// Azurite, two Nexus instances as the server and Azure Functions open them, tokens from the local issuer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, service, team, uniqueName } from './harness.ts';
import { ConfigError, loadConfig } from '../../../functions/runtime/config.ts';
import { openNexus } from '../../../functions/runtime/nexus.ts';
import { waitFor } from '../../helpers/wait.ts';

const eventually = (what: string, check: () => Promise<boolean>) => waitFor(check, { what, timeoutMs: 8000, intervalMs: 200 });

test('a write through one instance is visible in the other instance\'s API after its refresh', async () => {
  const h = await harness();
  const env = { ...h.env, NEXUS_CATALOG_REFRESH_SECONDS: '1' };
  const [one, two] = [await openNexus(loadConfig(env)), await openNexus(loadConfig(env))];
  try {
    const [appOne, appTwo] = [one.app, two.app];
    const admin = await h.token('root', ['Admin']);
    const call = (app: typeof appOne, method: string, path: string, token: string, body?: unknown) =>
      Promise.resolve(app.request(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }));
    const teamName = uniqueName('team-');
    const name = uniqueName('svc-');
    assert.is((await call(appOne, 'PUT', `/api/v1/entities/team/default/${teamName}`, admin, team(teamName, ['user:rita']))).status, 201);
    assert.is((await call(appOne, 'PUT', `/api/v1/entities/service/default/${name}`, admin, service(name, teamName))).status, 201);
    const rita = await h.token('rita', ['Developer']);
    // Instance two: the entity, search, and rita's membership (authorisation) all arrive by refresh.
    await eventually('GET on instance two', async () => (await call(appTwo, 'GET', `/api/v1/entities/service/default/${name}`, rita)).status === 200
      && (await call(appTwo, 'GET', `/api/v1/entities/team/default/${teamName}`, rita)).status === 200);
    const hits = await (await call(appTwo, 'GET', `/api/v1/search?q=${name}`, rita)).json() as { items: Array<{ entity: { metadata: { name: string } } }> };
    assert.ok(hits.items.some((i) => i.entity.metadata.name === name));
    const put = await call(appTwo, 'PUT', `/api/v1/entities/service/default/${name}`, rita, service(name, teamName, { tier: 'gold' }));
    assert.is(put.status, 200, await put.clone().text());
    // ...and back: instance one sees instance two's write.
    await eventually('the update on instance one', async () => ((await (await call(appOne, 'GET', `/api/v1/entities/service/default/${name}`, rita)).json()) as { spec: { tier?: string } }).spec.tier === 'gold');
  } finally {
    await one.close();
    await two.close();
  }
});

test('NEXUS_CATALOG_REFRESH_SECONDS: default 5, 0 is off, anything else is refused naming the variable', async () => {
  assert.is(loadConfig({}).catalog.refreshSeconds, 5);
  assert.is(loadConfig({ NEXUS_CATALOG_REFRESH_SECONDS: '0' }).catalog.refreshSeconds, 0);
  assert.throws(() => loadConfig({ NEXUS_CATALOG_REFRESH_SECONDS: 'soon' }), /NEXUS_CATALOG_REFRESH_SECONDS: must be a number of seconds \(got "soon"\)/);
  const h = await harness();
  try {
    loadConfig({ ...h.env, NEXUS_CATALOG_REFRESH_SECONDS: '-1' });
    assert.unreachable('the configuration accepted -1');
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, /NEXUS_CATALOG_REFRESH_SECONDS/);
  }
});

test('a write checked against a stale index does not overwrite what another instance stored', async () => {
  const one = await harness();
  const two = await harness({ tables: one.catalog.tableNames() });
  const [admin1, admin2] = [await one.token('root', ['Admin']), await two.token('root', ['Admin'])];
  const tA = uniqueName('team-'), tB = uniqueName('team-');
  for (const body of [team(tA, ['user:alice']), team(tB)]) assert.is((await one.call('PUT', `/api/v1/entities/team/default/${body.metadata.name}`, { token: admin1, body })).status, 201);
  const svc = uniqueName('svc-');
  assert.is((await one.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: admin1, body: service(svc, tA) })).status, 201);
  await two.catalog.refresh();
  // Instance two hands the service to team B; instance one has not seen that yet.
  assert.is((await two.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: admin2, body: service(svc, tB) })).status, 200);
  const alice = await one.token('alice', ['Developer']);
  const stale = await one.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: alice, body: service(svc, tA, { tier: 'mine' }) });
  assert.is(stale.status, 412, await stale.clone().text());
  assert.is((await two.catalog.get(`service:${svc}`, { consistent: true }))?.status?.owner, `team:default/${tB}`);
  // Checked again against the stored row: no longer hers.
  assert.is((await one.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: alice, body: service(svc, tA, { tier: 'mine' }) })).status, 403);

  // A team lead's delete, checked against the stale index, does not remove what team B now owns.
  const gone = uniqueName('svc-');
  assert.is((await one.call('PUT', `/api/v1/entities/service/default/${gone}`, { token: admin1, body: service(gone, tA) })).status, 201);
  await two.catalog.refresh();
  assert.is((await two.call('PUT', `/api/v1/entities/service/default/${gone}`, { token: admin2, body: service(gone, tB) })).status, 200);
  const lead = await one.token('alice', ['TeamLead']);
  const del = await one.call('DELETE', `/api/v1/entities/service/default/${gone}`, { token: lead });
  assert.is(del.status, 412, await del.clone().text());
  assert.ok(await two.catalog.get(`service:${gone}`, { consistent: true }));
  assert.is((await one.call('DELETE', `/api/v1/entities/service/default/${gone}`, { token: lead })).status, 403);

  // Created on instance two meanwhile: instance one finds it in the table, and its create does not replace it.
  const other = uniqueName('svc-');
  assert.is((await two.call('PUT', `/api/v1/entities/service/default/${other}`, { token: admin2, body: service(other, tB) })).status, 201);
  const create = await one.call('PUT', `/api/v1/entities/service/default/${other}`, { token: alice, body: service(other, tA) });
  assert.is(create.status, 403, await create.clone().text());
  assert.is((await two.catalog.get(`service:${other}`, { consistent: true }))?.status?.owner, `team:default/${tB}`);
});

test("a client's If-Match cannot stand in for the version rights were checked against", async () => {
  const one = await harness();
  const two = await harness({ tables: one.catalog.tableNames() });
  const [admin1, admin2] = [await one.token('root', ['Admin']), await two.token('root', ['Admin'])];
  const tA = uniqueName('team-'), tB = uniqueName('team-'), svc = uniqueName('svc-'), gone = uniqueName('svc-');
  for (const body of [team(tA, ['user:alice']), team(tB), service(svc, tA), service(gone, tA)]) {
    assert.is((await one.call('PUT', `/api/v1/entities/${body.kind.toLowerCase()}/default/${body.metadata.name}`, { token: admin1, body })).status, 201);
  }
  await two.catalog.refresh();
  // Instance two hands both services to team B; instance one has not seen that yet.
  for (const name of [svc, gone]) assert.is((await two.call('PUT', `/api/v1/entities/service/default/${name}`, { token: admin2, body: service(name, tB) })).status, 200);
  const alice = await one.token('alice', ['TeamLead']);
  // She read the current version (from instance two) and sends its ETag to the stale instance one.
  const current = (await two.call('GET', `/api/v1/entities/service/default/${svc}`, { token: await two.token('alice', ['TeamLead']) })).headers.get('etag');
  assert.ok(current);
  const put = await one.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: alice, body: service(svc, tA, { tier: 'mine' }), headers: { 'if-match': current! } });
  assert.is(put.status, 403, await put.clone().text());
  assert.is((await two.catalog.get(`service:${svc}`, { consistent: true }))?.status?.owner, `team:default/${tB}`);
  // `If-Match: *` does not lift the check either.
  const del = await one.call('DELETE', `/api/v1/entities/service/default/${gone}`, { token: alice, headers: { 'if-match': '*' } });
  assert.is(del.status, 412, await del.clone().text());
  assert.ok(await two.catalog.get(`service:${gone}`, { consistent: true }));
});

test('a Team deleted through one instance is gone from the other after its refresh, and its members\' rights with it', async () => {
  const one = await harness();
  const two = await harness({ tables: one.catalog.tableNames() });
  const admin1 = await one.token('root', ['Admin']);
  const tName = uniqueName('team-'), svc = uniqueName('svc-');
  assert.is((await one.call('PUT', `/api/v1/entities/team/default/${tName}`, { token: admin1, body: team(tName, ['user:rosa']) })).status, 201);
  assert.is((await one.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: admin1, body: service(svc, tName) })).status, 201);
  await two.catalog.refresh();
  const rosa = await two.token('rosa', ['Developer']);
  const before = await two.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: rosa, body: service(svc, tName, { tier: 'a' }) });
  assert.is(before.status, 200, await before.clone().text());
  assert.is((await one.call('DELETE', `/api/v1/entities/team/default/${tName}`, { token: admin1 })).status, 204);
  // The delete is in the change journal: the next refresh drops the entry.
  await two.catalog.refresh();
  assert.is(two.catalog.index.has(`team:default/${tName}`), false);
  assert.is((await two.call('GET', `/api/v1/entities/team/default/${tName}`, { token: rosa })).status, 404);
  assert.equal(two.catalog.identify({ id: 'rosa', name: 'rosa', groups: [], local: true }).teams, []);
  const after = await two.call('PUT', `/api/v1/entities/service/default/${svc}`, { token: rosa, body: service(svc, tName, { tier: 'b' }) });
  assert.is(after.status, 403, await after.clone().text());
});

test.run();

// driftRisk: each factor ranks as the issue orders it (scope height, kind of resource, number of
// resources, who changed it), the score is their sum within 0-100, and every factor says why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { driftRisk, scopeOf, type RiskContext } from '../../../../functions/drift/pull-request/risk.ts';
import { PA, alice, assignmentId, item, pipeline } from './fixtures.ts';

const ctx: RiskContext = { tenantRootId: 'tenant-root', intermediateGroups: new Set(['alz', 'landingzones']) };
const effect = (live: string) => [{ path: 'properties.parameters.effect.value', desired: 'Audit', live }];
const points = (r: ReturnType<typeof driftRisk>, f: string) => r.factors.find((x) => x.factor === f)!.points;

test('scope height: tenant root > intermediate group > group > subscription > resource group', () => {
  const ids = [
    assignmentId('tenant-root', 'a'),
    assignmentId('landingzones', 'a'),
    assignmentId('corp', 'a'),
    '/subscriptions/1111/providers/Microsoft.Authorization/policyAssignments/a',
    '/subscriptions/1111/resourceGroups/rg-app/providers/Microsoft.Authorization/policyAssignments/a',
  ];
  const scores = ids.map((id) => scopeOf(id, ctx).points);
  assert.equal([...scores].sort((a, b) => b - a), scores);
  assert.is(new Set(scores).size, 5);
  assert.ok(ids.map((id) => driftRisk([item(id, PA, effect('Disabled'))], ctx).score).every((s, i, all) => i === 0 || s < all[i - 1]!));
});

test('kind: role assignments and deny policies weigh more than other policy changes and other resources', () => {
  const at = assignmentId('corp', 'a');
  const role = driftRisk([item('/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/roleAssignments/x', 'Microsoft.Authorization/roleAssignments', [{ path: 'properties.principalId', desired: 'a', live: 'b' }])], ctx);
  const deny = driftRisk([item(at, PA, effect('Deny'))], ctx);
  const audit = driftRisk([item(at, PA, effect('AuditIfNotExists'))], ctx);
  const other = driftRisk([item('/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Network/x/y', 'Microsoft.Network/x', [{ path: 'tags.a', desired: 'a', live: 'b' }])], ctx);
  assert.is(points(role, 'kind'), points(deny, 'kind'));
  assert.ok(points(deny, 'kind') > points(audit, 'kind'));
  assert.ok(points(audit, 'kind') > points(other, 'kind'));
});

test('number of resources and who changed them: more resources and a person weigh more than a pipeline', () => {
  const one = [item(assignmentId('corp', 'a'), PA, effect('Disabled'), [pipeline])];
  const five = [1, 2, 3, 4, 5].map((n) => item(assignmentId('corp', `a${n}`), PA, effect('Disabled'), [pipeline]));
  assert.ok(points(driftRisk(five, ctx), 'count') > points(driftRisk(one, ctx), 'count'));
  const byPerson = driftRisk([item(assignmentId('corp', 'a'), PA, effect('Disabled'), [alice])], ctx);
  const byPipeline = driftRisk(one, ctx);
  assert.ok(byPerson.score > byPipeline.score);
  assert.match(byPerson.factors.find((f) => f.factor === 'actor')!.why, /a person/);
});

test('the score stays within 0-100 and is the sum of its factors, with a level', () => {
  const worst = Array.from({ length: 20 }, (_, n) => item(assignmentId('tenant-root', `r${n}`), PA, effect('Deny'), [alice]));
  const r = driftRisk(worst, ctx);
  assert.is(r.score, 100);
  assert.is(r.level, 'high');
  assert.is(r.factors.reduce((s, f) => s + f.points, 0), 100);
  const low = driftRisk([item('/subscriptions/1/resourceGroups/rg/providers/Microsoft.Web/sites/s', 'Microsoft.Web/sites', [{ path: 'tags.a', desired: 1, live: 2 }], [{ ...pipeline, actor: 'policy' }])], ctx);
  assert.is(low.level, 'low');
  assert.ok(low.score >= 0 && low.score < 40);
});

test.run();

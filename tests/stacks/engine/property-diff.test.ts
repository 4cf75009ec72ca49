import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deepEqual, diffValues, parsePath, unknownPaths, valueAt, UNKNOWN } from '../../../stacks/engine/property-diff.ts';

test('nested objects give leaf paths with old and new values', () => {
  const old = { properties: { displayName: 'A', parameters: { effect: { value: 'Audit' } }, gone: 1 } };
  const next = { properties: { displayName: 'A', parameters: { effect: { value: 'Deny' } }, added: true } };
  assert.equal(diffValues(old, next), [
    { path: 'properties.parameters.effect.value', kind: 'update', old: 'Audit', new: 'Deny' },
    { path: 'properties.gone', kind: 'delete', old: 1 },
    { path: 'properties.added', kind: 'add', new: true },
  ]);
});

test('arrays of equal length compare per element, others as a whole', () => {
  assert.equal(diffValues({ a: [1, 2, 3] }, { a: [1, 5, 3] }), [{ path: 'a[1]', kind: 'update', old: 2, new: 5 }]);
  assert.equal(diffValues({ a: [1] }, { a: [1, 2] }), [{ path: 'a', kind: 'update', old: [1], new: [1, 2] }]);
});

test('ARM ids compare without case; other strings with case', () => {
  assert.ok(deepEqual('/providers/Microsoft.Management/managementGroups/ALZ', '/providers/microsoft.management/managementgroups/alz'));
  assert.not.ok(deepEqual('Audit', 'audit'));
  assert.equal(diffValues({ x: 'Audit' }, { x: 'audit' }).length, 1);
});

test('equal values give no differences', () => {
  assert.equal(diffValues({ a: { b: [1, { c: null }] } }, { a: { b: [1, { c: null }] } }), []);
});

test('paths parse with dots, indexes and quoted keys', () => {
  assert.equal(parsePath('a.b[0]["c.d"].e'), ['a', 'b', 0, 'c.d', 'e']);
  assert.is(valueAt({ a: { b: [{ 'c.d': { e: 7 } }] } }, 'a.b[0]["c.d"].e'), 7);
  assert.is(valueAt({ a: 1 }, 'a.b.c'), undefined);
});

test('unknown values are found by path', () => {
  assert.equal(unknownPaths({ a: UNKNOWN, b: [{ c: UNKNOWN }], d: 'x' }), ['a', 'b[0].c']);
});

test.run();

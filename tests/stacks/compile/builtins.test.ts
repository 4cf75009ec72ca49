// The built-in cache: the shipped copy first, then the writable cache; misses are what to fetch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuiltinCache, builtinCacheDir } from '../../../stacks/compile/builtins.ts';
import { tmpLibrary } from './tmp-library.ts';

const DEF = (name: string) => `/providers/Microsoft.Authorization/policyDefinitions/${name}`;
const SET = (name: string) => `/providers/Microsoft.Authorization/policySetDefinitions/${name}`;
const doc = (name: string, displayName: string) => ({ name, properties: { displayName, parameters: {} } });

test('directories are searched in order; the first that holds a built-in wins; names match case-insensitively', () => {
  const shipped = tmpLibrary({ 'policyDefinitions/aaaa.json': doc('AAAA', 'shipped') });
  const writable = tmpLibrary({ 'policyDefinitions/aaaa.json': doc('AAAA', 'fetched'), 'policyDefinitions/bbbb.json': doc('BBBB', 'fetched'), 'policySetDefinitions/cccc.json': doc('CCCC', 'set') });
  const c = new BuiltinCache([shipped, writable]);
  assert.is(c.get(DEF('AAAA'))!.value.properties.displayName, 'shipped');
  assert.is(c.get(DEF('bbbb'))!.file, `${writable}/policyDefinitions/bbbb.json`);
  assert.is(c.get(SET('CCCC'))!.kind, 'policySetDefinition');
  assert.is(c.get(DEF('dddd')), undefined);
  assert.equal(c.misses(), [DEF('dddd')]);
});

test('a GUID tried as both kinds is no miss when one kind is found; a broken file counts as missing', () => {
  const dir = tmpLibrary({ 'policyDefinitions/eeee.json': doc('eeee', 'e'), 'policyDefinitions/ffff.json': '{ broken' });
  const c = new BuiltinCache([dir]);
  assert.is(c.get(SET('eeee')), undefined);
  assert.ok(c.get(DEF('eeee')));
  assert.is(c.get(DEF('ffff')), undefined);
  assert.equal(c.misses(), [DEF('ffff')]);
});

test('the writable cache is NEXUS_BUILTIN_CACHE, else under ~/.cache/nexus', () => {
  assert.is(builtinCacheDir({ NEXUS_BUILTIN_CACHE: '/tmp/x' }), '/tmp/x');
  assert.match(builtinCacheDir({ HOME: '/home/u' }), /\/\.cache\/nexus\/builtin-policies$/);
});

test.run();

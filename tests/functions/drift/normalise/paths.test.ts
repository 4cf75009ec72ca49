// Path patterns: parsed once, stepped property by property.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { advance, compileStarts, formatPath, matchedHere, parsePath, parsePattern, type Seg, type Step } from '../../../../functions/drift/normalise/paths.ts';

function matches(pattern: string, path: Seg[]): boolean {
  const steps = parsePattern(pattern);
  if (typeof steps === 'string') throw new Error(steps);
  const pats: Step[][] = [steps];
  const starts = compileStarts(pats);
  let states = starts.root;
  for (const seg of path) states = advance(pats, states, typeof seg === 'string' ? seg.toLowerCase() : seg, starts);
  return matchedHere(pats, states).length > 0;
}

test('keys match case-insensitively; * is one segment, index or key', () => {
  assert.ok(matches('properties.ProvisioningState', ['properties', 'provisioningState']));
  assert.not.ok(matches('properties.provisioningState', ['properties', 'x', 'provisioningState']));
  assert.ok(matches('properties.parameters.*', ['properties', 'parameters', 'effect']));
  assert.ok(matches('zones.*', ['zones', 2]));
  assert.not.ok(matches('properties.parameters.*', ['properties', 'parameters']));
});

test('** matches zero or more segments, anywhere in the pattern', () => {
  assert.ok(matches('**.etag', ['etag']));
  assert.ok(matches('**.etag', ['properties', 'securityRules', 3, 'etag']));
  assert.not.ok(matches('**.etag', ['properties', 'etags']));
  assert.ok(matches('properties.policyRule.**.allOf', ['properties', 'policyRule', 'if', 'anyOf', 0, 'allOf']));
  assert.ok(matches('properties.policyRule.**.allOf', ['properties', 'policyRule', 'allOf']));
  assert.ok(matches('**.serviceEndpoints[].locations', ['properties', 'subnets', 0, 'properties', 'serviceEndpoints', 1, 'locations']));
  assert.ok(matches('**', []));
});

test('name[] is any element, name[2] one element', () => {
  assert.ok(matches('properties.permissions[].actions', ['properties', 'permissions', 0, 'actions']));
  assert.not.ok(matches('properties.permissions[].actions', ['properties', 'permissions', 'x', 'actions']));
  assert.ok(matches('a[2].b', ['a', 2, 'b']));
  assert.not.ok(matches('a[2].b', ['a', 1, 'b']));
});

test('invalid patterns say why', () => {
  assert.is(parsePattern(''), 'empty path');
  assert.match(String(parsePattern('a..b')), /empty segment/);
  assert.match(String(parsePattern('a.b*')), /stands alone/);
  assert.match(String(parsePattern('a[x]')), /not a path segment/);
});

test('reported paths: dotted, arrays as [i], and back', () => {
  assert.is(formatPath(['properties', 'ipRules', 0, 'value']), 'properties.ipRules[0].value');
  assert.equal(parsePath('properties.ipRules[0].value'), ['properties', 'ipRules', 0, 'value']);
  assert.is(formatPath([]), '');
});

test.run();

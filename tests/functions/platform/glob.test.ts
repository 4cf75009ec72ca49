import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { globMatch, globSource } from '../../../functions/platform/glob.ts';
import { globMatch as scopeGlobMatch } from '../../../functions/reconcile/scope.ts';
import { codeownersFor } from '../../../functions/catalog/ownership.ts';
import { isTrustedRepo } from '../../../functions/catalog/ingestion/github.ts';

// The guardrail matcher let `?` match '/', CODEOWNERS did not: one glob now, and `?` is one
// character other than '/' everywhere.
test('? matches exactly one character, never a slash, in every caller', () => {
  assert.ok(globMatch('rg-?', 'rg-1'));
  assert.not.ok(globMatch('rg-?', 'rg-12'));
  assert.not.ok(globMatch('rg-?', 'rg-'));
  assert.not.ok(globMatch('sub?rg', 'sub/rg'));
  assert.not.ok(scopeGlobMatch('sub?rg', 'sub/rg'));
  assert.ok(scopeGlobMatch('sub?rg', 'sub-rg'));
  const rules = [{ pattern: 'docs?x', owners: ['@a'] }];
  assert.equal(codeownersFor(rules, 'docs/x'), []);
  assert.equal(codeownersFor(rules, 'docs-x'), ['@a']);
});

test('names: * crosses slashes, case is ignored, regex characters are literal', () => {
  assert.ok(globMatch('*/NetworkWatcherRG', '1111-2222/networkwatcherrg'));
  assert.ok(globMatch('/providers/*', '/providers/Microsoft.Management/managementGroups/corp'));
  assert.ok(globMatch('alz-*', 'ALZ-Corp'));
  assert.not.ok(globMatch('a.b', 'axb'));
  assert.not.ok(globMatch('a+', 'aa'));
  assert.ok(isTrustedRepo('Contoso/Platform-Catalog', ['contoso/platform-*']));
  assert.not.ok(isTrustedRepo('contoso/other', ['contoso/platform-*']));
});

test('paths: * stays in its segment, **/ is zero or more whole segments', () => {
  const path = (p: string, v: string) => new RegExp(`^${globSource(p)}$`).test(v);
  assert.ok(path('src/*.ts', 'src/a.ts'));
  assert.not.ok(path('src/*.ts', 'src/x/a.ts'));
  assert.ok(path('a/**/b', 'a/b'));
  assert.ok(path('a/**/b', 'a/x/y/b'));
  assert.not.ok(path('a/**/b', 'a/xb'));
  assert.ok(path('a/**', 'a/x/y'));
  assert.equal(codeownersFor([{ pattern: 'docs/**/guide.md', owners: ['@d'] }], 'docs/guide.md'), ['@d']);
  assert.equal(codeownersFor([{ pattern: 'docs/**/guide.md', owners: ['@d'] }], 'docs/myguide.md'), []);
});

test.run();

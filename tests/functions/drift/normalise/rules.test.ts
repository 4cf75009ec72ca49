// Loading rules: the shipped file, a tenant's additions/overrides/switch-offs, and errors that
// name the file and the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judge } from '../../../../functions/drift/normalise/judge.ts';
import { DEFAULT_RULES_FILE, loadRules, RulesError } from '../../../../functions/drift/normalise/rules.ts';

const dir = mkdtempSync(join(tmpdir(), 'drift-rules-'));
let n = 0;
function tenant(text: string): string {
  const file = join(dir, `rules-${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}
function loadError(text: string): RulesError {
  const file = tenant(text);
  try {
    loadRules({ tenantFile: file });
  } catch (err) {
    assert.instance(err, RulesError);
    assert.ok((err as RulesError).message.startsWith(`${file}: `), (err as Error).message);
    return err as RulesError;
  }
  throw new Error('expected a RulesError');
}

test('the shipped rules load, with unique names and the baseline rule', () => {
  const rules = loadRules();
  const names = rules.rules.map((r) => r.name);
  assert.is(new Set(names).size, names.length);
  assert.ok(names.includes('baseline-default'));
  assert.ok(rules.rules.every((r) => r.source === DEFAULT_RULES_FILE));
});

test('a tenant adds a rule, replaces a shipped one by name and turns one off', () => {
  const file = tenant(`
rules:
  - name: default:storage
    kind: default
    types: [Microsoft.Storage/storageAccounts]
    defaults: [{ path: properties.accessTier, value: Cool }]
  - name: location
    enabled: false
  - name: tenant:ignore-secret
    kind: read-only
    types: ['Microsoft.Storage/*']
    paths: [properties.mySecretThing]
`);
  const rules = loadRules({ tenantFile: file });
  const SA = 'Microsoft.Storage/storageAccounts';
  const replaced = rules.rules.filter((r) => r.name === 'default:storage');
  assert.is(replaced.length, 1);
  assert.is(replaced[0].source, file);
  // Replaced: Cool is now the default, Hot no longer is.
  assert.is(judge({ resourceType: SA, desired: { properties: {} }, live: { properties: { accessTier: 'Cool' } } }, rules).verdict, 'noise');
  assert.is(judge({ resourceType: SA, desired: { properties: {} }, live: { properties: { accessTier: 'Hot' } } }, rules).verdict, 'drift');
  // Turned off: display names are no longer equal.
  assert.is(judge({ resourceType: SA, desired: { location: 'West Europe' }, live: { location: 'westeurope' } }, rules).verdict, 'drift');
  // Added, with a case-insensitive type glob.
  assert.equal(judge({ resourceType: 'microsoft.storage/STORAGEACCOUNTS', desired: { properties: {} }, live: { properties: { mySecretThing: 1 } } }, rules).suppressedBy, ['tenant:ignore-secret']);
  // The shipped rules are untouched by a tenant's load.
  assert.is(judge({ resourceType: SA, desired: { location: 'West Europe' }, live: { location: 'westeurope' } }, loadRules()).verdict, 'noise');
});

test('errors name the file and the field', () => {
  assert.match(loadError('rules:\n  - name: a\n    kind: read-only\n    paths: [ok, "a..b"]\n').message, /: rules\[0\]\.paths\[1\]: empty segment in "a\.\.b"$/);
  assert.match(loadError('rules:\n  - { name: a, kind: read-only, paths: [x] }\n  - { name: b, kind: nope, paths: [x] }\n').message, /: rules\[1\]\.kind: /);
  assert.match(loadError('rules:\n  - { name: a, kind: unordered, paths: [x], key: 3 }\n').message, /: rules\[0\]\.key: /);
  assert.match(loadError('rules:\n  - { name: a, kind: read-only, paths: [x], extra: 1 }\n').message, /: rules\[0\]: .*extra/);
  assert.match(loadError('rules:\n  - { name: a, kind: default, defaults: [{ path: "x*y", value: 1 }] }\n').message, /: rules\[0\]\.defaults\[0\]\.path: "x\*y": \* stands alone/);
  assert.match(loadError('rules:\n  - { name: a, kind: read-only, paths: [x] }\n  - { name: a, kind: read-only, paths: [y] }\n').message, /: rules\[1\]\.name: "a" is already/);
  assert.match(loadError('nope: 1\n').message, /: rules: /);
  assert.match(loadError('rules: [\n').message, /: not valid YAML/);
});

test('limits: depth, aliases and size of what is parsed', () => {
  let deep = 'x';
  for (let i = 0; i < 40; i++) deep = `[${deep}]`;
  assert.match(loadError(`rules: ${deep}\n`).message, /nested deeper than/);
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 60 }, (_, i) => `b${i}: &b${i} [*${i === 0 ? 'a' : `b${i - 1}`}, *${i === 0 ? 'a' : `b${i - 1}`}]`), 'rules: []'].join('\n');
  assert.match(loadError(bomb).message, /not valid YAML/);
  assert.match(loadError(`rules: []\n#${'x'.repeat(600 * 1024)}\n`).message, /bytes; rules files are at most/);
  const missing = join(dir, 'missing.yaml');
  assert.throws(() => loadRules({ tenantFile: missing }), (err: Error) => err.message === `${missing}: cannot read (ENOENT)`);
});

test.run();

// Reading labelled cases: every field checked, errors naming the file and the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaseError, judgeCases, parseCase, readCases } from '../../../../functions/drift/normalise/cases.ts';
import { loadRules } from '../../../../functions/drift/normalise/rules.ts';

const ok = { resourceType: 'Microsoft.Storage/storageAccounts', expected: 'drift', why: 'sku changed', desired: { sku: { name: 'A' } }, live: { sku: { name: 'B' } } };

function error(text: string): string {
  try {
    parseCase(text, 'bad.json');
  } catch (err) {
    assert.instance(err, CaseError);
    return (err as Error).message;
  }
  throw new Error('expected a CaseError');
}

test('each bad field is named', () => {
  assert.match(error(JSON.stringify({ ...ok, expected: 'maybe' })), /^bad\.json: expected: /);
  assert.match(error(JSON.stringify({ ...ok, resourceType: 3 })), /^bad\.json: resourceType: /);
  assert.match(error(JSON.stringify({ ...ok, why: '' })), /^bad\.json: why: /);
  assert.match(error(JSON.stringify((({ live: _l, ...rest }) => rest)(ok))), /^bad\.json: live: required/);
  assert.match(error(JSON.stringify({ ...ok, childPaths: ['a', 4] })), /^bad\.json: childPaths\[1\]: /);
  assert.match(error(JSON.stringify({ ...ok, ownedPaths: [{ path: 'tags.a' }] })), /^bad\.json: ownedPaths\[0\]\.owner: /);
  assert.match(error('{ not json'), /^bad\.json: not valid JSON/);
  assert.match(error('[]'), /^bad\.json: Invalid input: expected object/);
  assert.match(error(JSON.stringify({ ...ok, desired: JSON.parse('['.repeat(100) + ']'.repeat(100)) })), /^bad\.json: nested deeper than 64 levels/);
});

test('null desired or live is allowed; ownedPaths and childPaths reach the judge', () => {
  assert.is(parseCase(JSON.stringify({ ...ok, desired: null }), 'a.json').desired, null);
  const c = parseCase(JSON.stringify({ ...ok, expected: 'noise', desired: { tags: {} }, live: { tags: { costCenter: '1' } }, ownedPaths: [{ path: 'tags.costCenter', owner: 'policy-modify:x' }] }), 'a.json');
  const s = judgeCases([{ file: 'a.json', case: c }], loadRules());
  assert.equal(s.results[0].suppressedBy, ['policy-modify:x']);
  assert.is(s.falsePositives, 0);
});

test('a missing folder is named', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'drift-cases-')), 'nope');
  assert.throws(() => readCases(dir), (err: Error) => err.message === `${dir}: cannot read the folder (ENOENT)`);
});

test('readCases reads *.json only, sorted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drift-cases-'));
  writeFileSync(join(dir, 'b.json'), JSON.stringify(ok));
  writeFileSync(join(dir, 'a.json'), JSON.stringify(ok));
  writeFileSync(join(dir, 'notes.txt'), 'x');
  assert.equal(readCases(dir).map((c) => c.file), ['a.json', 'b.json']);
});

test.run();

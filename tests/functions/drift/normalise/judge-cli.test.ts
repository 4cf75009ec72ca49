// `nexus drift judge DIR` as a user runs it: the real CLI entry over a temporary folder of cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../../bin/nexus.js', import.meta.url));

function nexus(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NEXUS_NO_LOCAL_ENV: '1' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

const SA = 'Microsoft.Storage/storageAccounts';
const noise = { resourceType: SA, expected: 'noise', why: 'display name and a read-only property', desired: { location: 'West Europe', properties: {} }, live: { location: 'westeurope', properties: { provisioningState: 'Succeeded' } } };
const drift = { resourceType: SA, expected: 'drift', why: 'sku changed', desired: { sku: { name: 'Standard_ZRS' } }, live: { sku: { name: 'Standard_LRS' } } };
const added = { resourceType: 'Microsoft.Authorization/roleAssignments', expected: 'drift', why: 'added out of band', desired: null, live: { properties: { principalId: 'p' } } };

function folder(cases: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drift-cases-'));
  for (const [name, c] of Object.entries(cases)) writeFileSync(join(dir, name), typeof c === 'string' ? c : JSON.stringify(c));
  return dir;
}

test('--json: every case judged; exit 0 when none is misjudged; other names are not cases', async () => {
  const dir = folder({ 'a-noise.json': noise, 'b-drift.json': drift, 'c-added-drift.json': added, 'README.md': '# not a case' });
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'x.json'), '{');
  const r = await nexus(['drift', 'judge', dir, '--json']);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out, {
    cases: 3, falsePositives: 0, falseNegatives: 0,
    results: [
      { file: 'a-noise.json', expected: 'noise', verdict: 'noise', differences: [], suppressedBy: ['location', 'read-only:provisioningState'] },
      { file: 'b-drift.json', expected: 'drift', verdict: 'drift', differences: [{ path: 'sku.name', desired: 'Standard_ZRS', live: 'Standard_LRS' }], suppressedBy: [] },
      { file: 'c-added-drift.json', expected: 'drift', verdict: 'drift', differences: [{ path: '', desired: null, live: { properties: { principalId: 'p' } } }], suppressedBy: [] },
    ],
  });
});

test('a misjudged case exits 1 and is counted as a false positive or negative', async () => {
  const fp = { ...drift, expected: 'noise' };
  const fn = { ...noise, expected: 'drift' };
  const r = await nexus(['drift', 'judge', folder({ 'fp.json': fp, 'fn.json': fn, 'ok.json': drift }), '--json']);
  assert.is(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.is(out.cases, 3);
  assert.is(out.falsePositives, 1);
  assert.is(out.falseNegatives, 1);
});

test('text: one line per case and a summary', async () => {
  const r = await nexus(['drift', 'judge', folder({ 'a-noise.json': noise, 'b-drift.json': { ...drift, expected: 'noise' } })]);
  assert.is(r.code, 1);
  assert.match(r.stdout, /^ok {2}a-noise\.json {2}noise {2}noise {2}location, read-only:provisioningState$/m);
  assert.match(r.stdout, /^FP {2}b-drift\.json {2}noise {2}drift {2}sku\.name$/m);
  assert.match(r.stdout, /^2 cases: 1 false positives, 0 false negatives$/m);
});

test('--rules: the tenant file applies over the shipped rules', async () => {
  const rulesDir = mkdtempSync(join(tmpdir(), 'drift-rules-'));
  const file = join(rulesDir, 'tenant.yaml');
  writeFileSync(file, 'rules:\n  - { name: location, enabled: false }\n');
  const r = await nexus(['drift', 'judge', folder({ 'a-noise.json': noise }), '--json', '--rules', file]);
  assert.is(r.code, 1);
  assert.is(JSON.parse(r.stdout).falsePositives, 1);
  writeFileSync(file, 'rules:\n  - { name: x, kind: read-only, paths: [] }\n');
  const bad = await nexus(['drift', 'judge', folder({ 'a-noise.json': noise }), '--json', '--rules', file]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, new RegExp(`^nexus: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: rules\\[0\\]\\.paths: `));
});

test('a bad case names the file and the field and exits 2', async () => {
  const r = await nexus(['drift', 'judge', folder({ 'a.json': drift, 'bad.json': { ...drift, expected: 'maybe' } }), '--json']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^nexus: bad\.json: expected: /);
  assert.is(r.stdout, '');
});

test('an oversized case and a non-file *.json are refused by name', async () => {
  const big = await nexus(['drift', 'judge', folder({ 'big.json': JSON.stringify({ ...drift, why: 'x'.repeat(1024 * 1024) }) }), '--json']);
  assert.is(big.code, 2);
  assert.match(big.stderr, /^nexus: big\.json: \d+ bytes; a case is at most 1048576/);
  const dir = folder({});
  mkdirSync(join(dir, 'dir.json'));
  const notFile = await nexus(['drift', 'judge', dir, '--json']);
  assert.is(notFile.code, 2);
  assert.match(notFile.stderr, /^nexus: dir\.json: not a regular file/);
});

test.run();

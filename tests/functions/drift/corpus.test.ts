// The labelled drift corpus (tests/fixtures/drift) judged by the real CLI: `nexus drift judge DIR --json`,
// as an operator runs it. The corpus must be judged with no false negatives and under 1% false positives,
// and a deliberately mislabelled case must fail the command and be named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/nexus.js', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../fixtures/drift', import.meta.url));

interface Result { file: string; expected: 'drift' | 'noise'; verdict: 'drift' | 'noise'; differences: { path: string; desired: unknown; live: unknown }[]; suppressedBy: string[] }
interface Summary { cases: number; falsePositives: number; falseNegatives: number; results: Result[] }

function nexus(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NEXUS_|AZURE_STORAGE_)/.test(k))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, NEXUS_NO_LOCAL_ENV: '1' }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** JSON with object keys sorted, so two bodies that are the same data compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

const caseFiles = () => readdirSync(CORPUS).filter((n) => n.endsWith('.json')).sort();
const describe = (r: Result) => `${r.file} (expected ${r.expected}, judged ${r.verdict}): ${r.verdict === 'drift' ? JSON.stringify(r.differences.slice(0, 3)) : r.suppressedBy.join(', ')}`;

test('the corpus is well formed: at least 60 cases, a third of them drift, every one labelled, explained and backed in the README', () => {
  const files = caseFiles();
  assert.ok(files.length >= 60, `${files.length} cases`);
  const readme = readFileSync(join(CORPUS, 'README.md'), 'utf8');
  let drift = 0;
  for (const f of files) {
    const c = JSON.parse(readFileSync(join(CORPUS, f), 'utf8'));
    assert.ok(c.expected === 'drift' || c.expected === 'noise', `${f}: expected`);
    // The file name carries the label, so a reviewer sees it without opening the file.
    assert.ok(f.endsWith(`-${c.expected}.json`), `${f}: the name ends in -${c.expected}.json`);
    assert.ok(typeof c.resourceType === 'string' && /^Microsoft\.[A-Za-z]+\/[A-Za-z/]+$/.test(c.resourceType), `${f}: resourceType`);
    assert.ok(Object.hasOwn(c, 'desired') && Object.hasOwn(c, 'live'), `${f}: desired and live are present (null when absent)`);
    assert.ok(c.desired !== null || c.live !== null, `${f}: a resource on at least one side`);
    assert.match(c.why, /[\w.-]+\/[\w.-]+#\d+|Real drift/, `${f}: why cites an issue or says why it is real drift`);
    assert.ok(readme.includes(f), `${f}: listed in README.md's source table`);
    if (c.expected === 'drift') drift++;
  }
  assert.ok(drift / files.length >= 0.35, `${drift} of ${files.length} cases are drift`);
});

test('nexus drift judge judges the corpus with no false negatives and under 1% false positives', async () => {
  const r = await nexus(['drift', 'judge', CORPUS, '--json']);
  let summary: Summary;
  try {
    summary = JSON.parse(r.stdout) as Summary;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 2000)}`);
  }
  const files = caseFiles();
  assert.is(summary.cases, files.length);
  assert.equal(summary.results.map((x) => x.file).sort(), files);
  const fn = summary.results.filter((x) => x.expected === 'drift' && x.verdict === 'noise');
  const fp = summary.results.filter((x) => x.expected === 'noise' && x.verdict === 'drift');
  assert.is(summary.falseNegatives, fn.length);
  assert.is(summary.falsePositives, fp.length);
  // Every drift case must be seen, and each must name at least one differing path.
  assert.is(fn.length, 0, `false negatives:\n${fn.map(describe).join('\n')}`);
  for (const x of summary.results.filter((y) => y.verdict === 'drift')) assert.ok(x.differences.length > 0, `${x.file}: drift without a difference`);
  assert.ok(fp.length / summary.cases < 0.01, `${fp.length} false positives of ${summary.cases}:\n${fp.map(describe).join('\n')}`);
  // Noise that was removed says which rule removed it (unless the bodies are the same data, e.g. only
  // their keys are in another order, when there is nothing to remove).
  for (const x of summary.results.filter((y) => y.expected === 'noise' && y.verdict === 'noise')) {
    const c = JSON.parse(readFileSync(join(CORPUS, x.file), 'utf8'));
    if (canonical(c.desired) !== canonical(c.live)) assert.ok(x.suppressedBy.length > 0, `${x.file}: noise suppressed by no rule`);
  }
  assert.is(r.code, fp.length + fn.length > 0 ? 1 : 0, r.stderr);
});

test('a mislabelled case fails the command (exit 1) and is named, in JSON and in the table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-drift-judge-'));
  // One correct case, and a real drift (public network access enabled) labelled as noise.
  copyFileSync(join(CORPUS, 'storage-read-only-endpoints-and-timestamps-noise.json'), join(dir, 'ok-noise.json'));
  const drift = JSON.parse(readFileSync(join(CORPUS, 'storage-public-network-access-enabled-drift.json'), 'utf8'));
  writeFileSync(join(dir, 'mislabelled-public-access.json'), JSON.stringify({ ...drift, expected: 'noise', why: 'deliberately wrong label' }));

  const r = await nexus(['drift', 'judge', dir, '--json']);
  assert.is(r.code, 1, r.stdout + r.stderr);
  const summary = JSON.parse(r.stdout) as Summary;
  assert.is(summary.cases, 2);
  assert.is(summary.falsePositives, 1);
  assert.is(summary.falseNegatives, 0);
  const bad = summary.results.find((x) => x.file === 'mislabelled-public-access.json');
  assert.ok(bad, r.stdout);
  assert.is(bad!.verdict, 'drift');
  assert.ok(bad!.differences.some((d) => d.path.includes('publicNetworkAccess')), JSON.stringify(bad!.differences));

  const table = await nexus(['drift', 'judge', dir]);
  assert.is(table.code, 1);
  assert.match(table.stdout, /mislabelled-public-access\.json/);
});

test('a case that is not a case (bad JSON) is refused with its file named, not judged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-drift-judge-'));
  writeFileSync(join(dir, 'broken.json'), '{ "resourceType": "Microsoft.Storage/storageAccounts", ');
  const r = await nexus(['drift', 'judge', dir, '--json']);
  assert.ok(r.code !== 0);
  assert.match(r.stdout + r.stderr, /broken\.json/);
});

test.run();

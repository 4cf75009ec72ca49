// `nexus validate`, `nexus resolve` and `nexus compile`, run in process through the real CLI entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../../functions/cli/main.ts';
import { architecture, BASE, NEXUS, tmpLibrary } from './tmp-library.ts';

async function nexus(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'nexus', ...args]);
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { out, err, code };
}

const LIBS = ['--library', BASE, '--library', NEXUS];

test('compile --json prints the documented shape', async () => {
  const r = await nexus('compile', ...LIBS, '--architecture', 'small-nexus', '--root-mg', 'root-x', '--location', 'westus', '--json');
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(Object.keys(j), ['managementGroups', 'stacks', 'findings']);
  assert.equal(j.managementGroups[0], {
    id: 'top',
    parentId: 'root-x',
    archetypes: ['top'],
    policyAssignments: ['Deploy-Baseline', 'Audit-Thing'],
    policyDefinitions: 4,
    policySetDefinitions: 1,
    roleDefinitions: 1,
    roleAssignments: 4,
  });
  assert.equal(j.stacks.map((s: { name: string }) => s.name), ['top', 'workloads', 'apps']);
  assert.ok(j.stacks.every((s: { resources: number }) => s.resources > 0));
  for (const f of j.findings) assert.equal(Object.keys(f), ['severity', 'file', 'path', 'message']);
});

test('compile prints a readable plan; with errors it exits 1 naming the first one', async () => {
  const ok = await nexus('compile', ...LIBS, '--architecture', 'small-nexus');
  assert.is(ok.code, 0);
  assert.match(ok.out, /architecture small-nexus under tenant-root, location northeurope/);
  assert.match(ok.out, /3 stacks, \d+ resources; 0 errors/);
  const lib = tmpLibrary({ 'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['ghost'] }] }) });
  const bad = await nexus('compile', '--library', BASE, '--library', lib, '--architecture', 'test');
  assert.is(bad.code, 1);
  assert.match(bad.err, /^nexus: compile failed: 1 error\(s\); first: .*a\.yaml spec\.managementGroups\[0\]\.archetypes\[0\]: unknown archetype "ghost"\n$/);
  const badJson = await nexus('compile', '--library', BASE, '--library', lib, '--architecture', 'test', '--json');
  assert.is(badJson.code, 1);
  assert.is(JSON.parse(badJson.out).findings[0].severity, 'error');
});

test('validate: findings and exit 1 on any error, without needing a root group or location', async () => {
  const ok = await nexus('validate', '--library', BASE, '--architecture', 'small', '--json');
  assert.is(ok.code, 0, ok.err);
  assert.ok(JSON.parse(ok.out).findings.every((f: { severity: string }) => f.severity !== 'error'));
  const lib = tmpLibrary({ 'c.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: a }\nspec: { inherits: [a] }\n', 'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['a'] }] }) });
  const bad = await nexus('validate', '--library', BASE, '--library', lib, '--architecture', 'test');
  assert.is(bad.code, 1);
  assert.match(bad.out, /error\s+\S*c\.yaml spec\.inherits\[0\]\.name: inheritance cycle: a -> a/);
  assert.match(bad.out, /1 errors, \d+ warnings/);
});

test('resolve --mg shows the effective archetype and where each item came from', async () => {
  const r = await nexus('resolve', ...LIBS, '--architecture', 'small-nexus', '--mg', 'apps', '--json');
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.managementGroup.archetypes, ['apps']);
  const owner = j.policyAssignments.find((a: { name: string }) => a.name === 'Audit-Owner-Tag');
  assert.is(owner.archetype, 'workloads-strict');
  assert.equal(owner.via, ['apps']);
  assert.is(owner.enforcementMode, 'DoNotEnforce');
  assert.ok(owner.overriddenBy.path.includes('overrides.policies.Audit-Owner-Tag'));
  assert.equal(j.subscriptions, ['44444444-4444-4444-4444-444444444444']);
  const text = await nexus('resolve', ...LIBS, '--architecture', 'small-nexus', '--mg', 'apps');
  assert.match(text.out, /Audit-Owner-Tag \[DoNotEnforce\] -> Audit-Thing  from workloads-strict via apps/);
  const missing = await nexus('resolve', ...LIBS, '--architecture', 'small-nexus', '--mg', 'nope');
  assert.is(missing.code, 1);
  assert.match(missing.err, /management group "nope" is not in architecture small-nexus/);
});

test('bad input ends with one line naming the file and field, never a stack trace', async () => {
  const broken = tmpLibrary({ 'x.alz_policy_definition.json': '{"name": "x", "properties": {"policyRule": ' });
  const cases: [string[], RegExp][] = [
    [['validate', '--library', '/no/such/dir'], /^nexus: \/no\/such\/dir: library directory not found/],
    [['validate', '--library', broken], /x\.alz_policy_definition\.json: broken JSON/],
    [['compile', '--library', BASE, '--architecture', 'nope'], /^nexus: architecture: unknown architecture "nope" \(known: small\)/],
    [['compile', '--library', BASE, '--architecture', 'small'], /no root management group: pass --root-mg/],
  ];
  for (const [args, re] of cases) {
    const r = await nexus(...args);
    assert.is(r.code, 1, args.join(' '));
    assert.match(r.err, re);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
    assert.not.match(r.err, /\n\s+at /);
  }
});

test.run();

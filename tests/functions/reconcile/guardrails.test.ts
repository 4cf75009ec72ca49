import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_GUARDRAILS_FILE, GuardrailsError, loadGuardrails, parseGuardrails } from '../../../functions/reconcile/guardrails.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'nexus-guardrails-'));

test('the shipped guardrails load and deny the tenant root', async () => {
  const g = await loadGuardrails(DEFAULT_GUARDRAILS_FILE);
  assert.is(g.scopes.allowTenantRoot, false);
  assert.ok(g.scopes.allow.managementGroups!.includes('alz'));
  assert.ok(g.approvals.rules.length > 0);
});

test('defaults fill an empty file: tenant root denied, no limits', () => {
  const g = parseGuardrails(null);
  assert.is(g.scopes.allowTenantRoot, false);
  assert.is(g.scopes.allow.managementGroups, undefined);
  assert.equal(g.blastRadius.maxChangesPerRun, {});
  assert.is(g.previewReliability.onExceed, 'fail-closed');
});

test('a bad field is refused with the file and the field path', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'blastRadius:\n  maxChangesPerRun:\n    roleAssignments: -1\n');
  try {
    await loadGuardrails(file);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, GuardrailsError);
    assert.match((err as Error).message, file);
    assert.match((err as Error).message, /blastRadius\.maxChangesPerRun\.roleAssignments/);
  }
});

test('unknown keys are refused (typos do not silently disable a guardrail)', () => {
  assert.throws(() => parseGuardrails({ scopes: { alow: {} } }), /scopes/);
  assert.throws(() => parseGuardrails({ approvals: { rules: [{ name: 'r', group: 'g', kinds: ['roleAsignments'] }] } }), /approvals\.rules\.0\.kinds\.0/);
});

test('NEXUS_GUARDRAILS_FILE (through the configuration) overrides the shipped file; a missing file is named', async () => {
  const file = join(dir, 'mine.yaml');
  writeFileSync(file, 'scopes:\n  allowTenantRoot: true\n');
  const fileOf = (path: string) => loadConfig({ NEXUS_GUARDRAILS_FILE: path }).compile.guardrailsFile;
  assert.is((await loadGuardrails(fileOf(file))).scopes.allowTenantRoot, true);
  await loadGuardrails(fileOf(join(dir, 'nope.yaml'))).then(() => assert.unreachable(), (err) => assert.match(err.message, /nope\.yaml: cannot read/));
  // Unset, the shipped file.
  assert.is((await loadGuardrails(loadConfig({}).compile.guardrailsFile)).scopes.allowTenantRoot, false);
});

test.run();

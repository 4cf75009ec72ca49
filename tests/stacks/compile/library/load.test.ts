// Loading libraries: ALZ files and Nexus YAML side by side, dependencies by local path, and bad input
// reported once, naming the file and the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { InputError } from '../../../../stacks/compile/errors.ts';
import { loadLibraries } from '../../../../stacks/compile/library/load.ts';
import { BASE, FIXTURES, NEXUS, tmpLibrary } from '../tmp-library.ts';

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

test('loads a library and its dependency (declared by local path) first', () => {
  const lib = loadLibraries([BASE, NEXUS]);
  assert.equal(lib.dirs, [join(FIXTURES, 'shared-defs'), BASE, NEXUS]);
  assert.ok(lib.policyDefinitions.has('Audit-Thing'), 'from the dependency');
  assert.is(lib.policyDefinitions.get('Audit-Thing')!.library, join(FIXTURES, 'shared-defs'));
  assert.equal([...lib.archetypes.keys()].sort(), ['apps', 'empty', 'top', 'workloads', 'workloads-strict']);
  assert.equal([...lib.architectures.keys()].sort(), ['small', 'small-nexus']);
  assert.ok(lib.roleDefinitions.has('Reader-Plus'), 'role definitions keyed by roleName');
  assert.equal(lib.defaults.get('log_analytics_workspace_id')!.targets, [{ assignment: 'Deploy-Baseline', parameters: ['logAnalytics'] }]);
  assert.equal(lib.findings, []);
});

test('a library loaded twice (directly and as a dependency) is read once', () => {
  const lib = loadLibraries([join(FIXTURES, 'shared-defs'), BASE]);
  assert.equal(lib.findings, []);
  assert.is(lib.dirs.length, 2);
});

test('ALZ files in YAML are read too', () => {
  const dir = tmpLibrary({ 'x.alz_archetype_definition.yaml': 'name: yaml-archetype\npolicy_assignments: []\n' });
  assert.ok(loadLibraries([dir]).archetypes.has('yaml-archetype'));
});

test('a missing library directory names the path', () => {
  const e = inputError(() => loadLibraries(['/no/such/library']));
  assert.match(e.message, /library directory not found: \/no\/such\/library/);
});

test('a dependency that does not exist names the metadata file and field', () => {
  const dir = tmpLibrary({ 'alz_library_metadata.json': { name: 'x', dependencies: [{ path: 'platform/nowhere', ref: '2026.01.0' }] } });
  const e = inputError(() => loadLibraries([dir]));
  assert.is(e.file, join(dir, 'alz_library_metadata.json'));
  assert.is(e.field, 'dependencies[0].path');
});

test('a remote dependency is refused: only local paths', () => {
  const dir = tmpLibrary({ 'alz_library_metadata.json': { name: 'x', dependencies: [{ custom_url: 'https://example.invalid/lib' }] } });
  const e = inputError(() => loadLibraries([dir]));
  assert.is(e.field, 'dependencies[0].custom_url');
  assert.match(e.message, /only local library paths/);
});

test('broken JSON names the file', () => {
  const dir = tmpLibrary({ 'policy_definitions/Bad.alz_policy_definition.json': '{ "name": "Bad", ' });
  const e = inputError(() => loadLibraries([dir]));
  assert.is(e.file, join(dir, 'policy_definitions/Bad.alz_policy_definition.json'));
  assert.match(e.message, /broken JSON/);
});

test('broken YAML names the file and line', () => {
  const dir = tmpLibrary({ 'a.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata:\n  name: [unclosed\n' });
  const e = inputError(() => loadLibraries([dir]));
  assert.is(e.file, join(dir, 'a.yaml'));
  assert.match(e.message, /broken YAML at line \d+/);
});

test('a file of the wrong shape names the field', () => {
  const dir = tmpLibrary({ 'p.alz_policy_assignment.json': { name: 'X', properties: { displayName: 'no definition id' } } });
  const e = inputError(() => loadLibraries([dir]));
  assert.is(e.field, 'properties.policyDefinitionId');
  assert.match(e.message, /not a valid policy assignment/);

  const nexus = tmpLibrary({ 'a.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: a }\nspec:\n  policies:\n    - name: p\n      definition: d\n      enforcementMode: Sometimes\n' });
  const e2 = inputError(() => loadLibraries([nexus]));
  assert.is(e2.field, 'spec.policies[0].enforcementMode');

  const typo = tmpLibrary({ 'a.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: a }\nspec:\n  polices: []\n' });
  const e3 = inputError(() => loadLibraries([typo]));
  assert.match(e3.message, /polices/);
});

test('a principal without name or object id is refused', () => {
  const dir = tmpLibrary({ 'a.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: a }\nspec:\n  rbac:\n    - role: Reader\n      principals: [{ type: Group }]\n' });
  const e = inputError(() => loadLibraries([dir]));
  assert.is(e.field, 'spec.rbac[0].principals[0]');
});

test('names defined twice across libraries are errors naming both files', () => {
  const dir = tmpLibrary({ 'again.alz_archetype_definition.json': { name: 'top' } });
  const lib = loadLibraries([BASE, dir]);
  const f = lib.findings.find((x) => x.code === 'duplicate-name')!;
  assert.is(f.severity, 'error');
  assert.is(f.file, join(dir, 'again.alz_archetype_definition.json'));
  assert.match(f.message, /archetype "top" is already defined in .*top\.alz_archetype_definition\.json/);
});

test('YAML that is not nexus/v1 is left alone; unknown nexus kinds are a warning', () => {
  const dir = tmpLibrary({ 'other.yaml': 'scopes: { allow: [] }\n', 'k.yaml': 'apiVersion: nexus/v1\nkind: Archetpye\nmetadata: { name: x }\n' });
  const lib = loadLibraries([dir]);
  assert.equal(lib.findings.map((f) => [f.severity, f.code, f.path]), [['warning', 'unknown-kind', 'kind']]);
});

test('a library folder that cannot be read is an InputError naming it (permissions), not a stack trace', () => {
  const lib = tmpLibrary({ 'ok.alz_archetype_definition.json': { name: 'ok' } });
  const locked = join(lib, 'locked');
  mkdirSync(locked);
  chmodSync(lib, 0o755);
  chmodSync(locked, 0o000);
  // Root reads any folder: the child drops to nobody after loading the modules, then loads the library.
  const child = join(lib, 'child.ts');
  writeFileSync(
    child,
    `import { loadLibraries } from ${JSON.stringify(new URL('../../../../stacks/compile/library/load.ts', import.meta.url).pathname)};\n` +
      `if (process.getuid?.() === 0) { process.setgid(65534); process.setuid(65534); }\n` +
      `try { loadLibraries([${JSON.stringify(lib)}]); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ name: e.name, file: e.file, message: e.message})); }\n`,
  );
  chmodSync(child, 0o644);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--import', 'tsx', child], { cwd: new URL('../../../../', import.meta.url).pathname, encoding: 'utf8' }).trim();
  } finally {
    chmodSync(locked, 0o755);
  }
  const r = JSON.parse(out);
  assert.is(r.name, 'InputError');
  assert.is(r.file, locked);
  assert.is(r.message, `${locked}: cannot read library directory: EACCES (permission denied)`);
});

test.run();

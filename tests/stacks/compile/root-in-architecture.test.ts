// A root management group that the architecture itself defines (`--root-mg alz` with the ALZ
// architecture) would make that group its own parent. It used to send every walk up the tree into an
// endless loop (a V8 out-of-memory crash); now it is a clear error naming the option and the group.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHierarchy } from '../../../stacks/compile/hierarchy.ts';
import { alzLibraryDir, InputError } from '../../../stacks/compile/index.ts';
import { loadLibraries } from '../../../stacks/compile/library/load.ts';
import type { Finding } from '../../../stacks/compile/model.ts';
import { architecture, BASE, tmpLibrary } from './tmp-library.ts';

const NEXUS_BIN = fileURLToPath(new URL('../../../bin/nexus.js', import.meta.url));

test('nexus compile --architecture alz --root-mg alz exits 1 naming --root-mg and the group, in bounded time and memory', () => {
  // A child process with a small heap and a deadline: a regression fails here instead of taking the runner down.
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=256', NEXUS_BIN, 'compile', '--library', alzLibraryDir(), '--architecture', 'alz', '--root-mg', 'alz', '--location', 'westeurope'],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NEXUS_NO_LOCAL_ENV: '1' } },
  );
  assert.is(r.signal, null, `killed by ${r.signal}: ${r.stderr.slice(-500)}`);
  assert.is(r.status, 1, r.stderr.slice(-500));
  assert.match(
    r.stderr,
    /^nexus: \S*alz\.alz_architecture_definition\.json \(management_groups\[0\]\.id\): the root management group "alz" \(from --root-mg\) is also a management group of this architecture, so it would be its own parent/,
  );
  assert.not.match(r.stderr, /FATAL|heap/i);
});

function hierarchyOf(libs: string[], name: string, rootMg?: string) {
  const findings: Finding[] = [];
  return () => buildHierarchy(loadLibraries(libs), name, { rootMg, location: 'westeurope' }, findings);
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  assert.unreachable('expected an InputError');
  throw new Error('unreachable');
}

test('a root named by spec.rootManagementGroup that the architecture defines is rejected, naming that field as the source', () => {
  const lib = tmpLibrary({ 'a.yaml': architecture({ rootManagementGroup: 'workloads' }) });
  const err = inputError(hierarchyOf([BASE, lib], 'test'));
  assert.match(err.file, /small\.alz_architecture_definition\.json$/);
  assert.is(err.field, 'management_groups[1].id');
  assert.match(err.detail, /root management group "workloads" \(from spec\.rootManagementGroup\)/);
});

test('group ids compare case-insensitively, as Azure does', () => {
  const err = inputError(hierarchyOf([BASE], 'small', 'TOP'));
  assert.is(err.field, 'management_groups[0].id');
  assert.match(err.detail, /"TOP" \(from --root-mg\)/);
});

test('a root outside the architecture still compiles as before', () => {
  const h = hierarchyOf([BASE], 'small', 'tenant-root')();
  assert.equal(
    h.groups.map((g) => [g.id, g.parentId]),
    [
      ['top', 'tenant-root'],
      ['workloads', 'top'],
      ['apps', 'workloads'],
    ],
  );
});

test.run();

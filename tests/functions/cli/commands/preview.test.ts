// `nexus preview` as a user runs it: the real CLI entry compiles the default tenant and previews
// a stack through the real engine, with state in Azurite and the ARM sandbox as the live tenant.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { azurite } from '../../../helpers/azurite.ts';
import { sandbox } from '../../../helpers/sandbox.ts';
import { compileDefaultTenant } from '../../../../stacks/compile/index.ts';
import type { DesiredState } from '../../../../stacks/compile/model.ts';
import { upTenant } from '../../../../stacks/engine/tenant.ts';

const BIN = fileURLToPath(new URL('../../../../bin/nexus.js', import.meta.url));
let env: Record<string, string>;

function nexus(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NEXUS_NO_LOCAL_ENV: '1', ...env, ...extra } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test.before(async () => {
  const [az, sb] = await Promise.all([azurite(), sandbox()]);
  // A backend folder of its own, so other tests' stacks of the same name do not count.
  env = { ...az.env, ...sb.env, NEXUS_RESOURCE_BACKEND: 'arm-rest', NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-home-')),
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/preview-cli-${process.pid}?domain=127.0.0.1:${az.blobPort}&protocol=http` };
});

test('--json: the ChangeSet of the named stack, shaped as the issue says', async () => {
  const state = await compileDefaultTenant({ ...process.env, ...env });
  const online = state.stacks.find((s) => s.name === 'online')!;
  const r = await nexus(['preview', '--stack', 'online', '--json']);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.stacks.map((s: { name: string }) => s.name), ['online']);
  const [s] = out.stacks;
  assert.equal(s.summary, { create: online.resourceIds.length, update: 0, replace: 0, delete: 0, same: 0 });
  assert.equal(s.changes.map((c: { armId: string }) => c.armId), online.resourceIds);
  assert.ok(s.changes.every((c: { op: string; urn: string; type: string }) => c.op === 'create' && c.urn.startsWith('urn:pulumi:online::nexus::') && c.type.startsWith('pulumi-nodejs:dynamic/arm:')));
  assert.is(s.kind, 'preview');
});

test('text: counts per stack and each change; an unknown stack is a one-line error', async () => {
  const state = await compileDefaultTenant({ ...process.env, ...env });
  const n = state.stacks.find((s) => s.name === 'online')!.resourceIds.length;
  const r = await nexus(['preview', '--stack', 'online']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^online: ${n} create, 0 update, 0 replace, 0 delete, 0 same$`, 'm'));
  assert.match(r.stdout, /^ {2}create {3}\/providers\/Microsoft\.Management\/managementGroups\/online/m);

  const bad = await nexus(['preview', '--stack', 'nope']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /^nexus: --stack: no stack named "nope" in the default tenant \(stacks: alz, /);
});

test('on a terminal, progress lines show while the preview runs and are cleared after', async () => {
  // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
  const cmd = [process.execPath, BIN, 'preview', '--stack', 'online'].map((a) => `'${a}'`).join(' ');
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('script', ['-qefc', cmd, '/dev/null'], { env: { ...process.env, NEXUS_NO_LOCAL_ENV: '1', ...env, COLUMNS: '200' } }, (err, stdout) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout }));
  });
  assert.is(r.code, 0, r.out);
  const progress = r.out.split('\r\x1b[K').map((s) => s.trim()).filter(Boolean);
  assert.ok(progress.includes('online: opening'), JSON.stringify(progress.slice(0, 5)));
  assert.ok(progress.some((p) => /^online: create \/providers\/Microsoft\.Management\/managementGroups\/online/.test(p)), JSON.stringify(progress));
  // The progress line is wiped before the result, which stays as in a pipe.
  assert.match(r.out, /\r\x1b\[Konline: \d+ create, 0 update, 0 replace, 0 delete, 0 same\r?\n/);
});

test('a Pulumi CLI of another version is refused with a one-line error that says what to run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-fake-pulumi-'));
  writeFileSync(join(dir, 'pulumi'), '#!/bin/sh\necho v3.100.0\n', { mode: 0o755 });
  const r = await nexus(['preview', '--stack', 'online'], { NEXUS_PULUMI_DIR: dir });
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^nexus: ${join(dir, 'pulumi')} is Pulumi v3\\.100\\.0, but Nexus runs v\\d+\\.\\d+\\.\\d+; run \`bash scripts/build-pulumi\\.sh\``));
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
});

/** The groups above a stack's group, put straight into the sandbox as the stacks that own them would. */
async function putParents(state: DesiredState, groupId: string): Promise<void> {
  const sb = await sandbox();
  const chain: string[] = [];
  for (let id = groupId; ;) {
    const parent = (state.resources.find((r) => r.id === id)?.body.properties as any)?.details?.parent?.id as string | undefined;
    if (!parent || !state.resources.some((r) => r.id === parent)) break;
    chain.unshift(parent);
    id = parent;
  }
  for (const [i, id] of chain.entries()) {
    const body = structuredClone(state.resources.find((r) => r.id === id)!.body) as any;
    if (i === 0) delete body.properties.details; // the top one hangs under the sandbox's root group
    sb.state.put(id, body, 'test-setup');
  }
}

test('against the live tenant: a side-door change shows as an update, with the changed property in the text', async () => {
  const state = await compileDefaultTenant({ ...process.env, ...env });
  const group = '/providers/Microsoft.Management/managementGroups/online';
  await putParents(state, group);
  const [applied] = await upTenant(state, { stacks: ['online'], env: { ...process.env, ...env }, resourceBackend: 'arm-rest' });
  assert.equal(applied.changeSet.summary, { create: 1, update: 0, replace: 0, delete: 0, same: 0 });
  const clean = await nexus(['preview', '--stack', 'online']);
  assert.match(clean.stdout, /^online: 0 create, 0 update, 0 replace, 0 delete, 1 same$/m, clean.stdout + clean.stderr);

  // Renamed in the portal: the stored state does not know, the live tenant does.
  (await sandbox()).state.update(group, { properties: { displayName: 'Online (renamed)' } }, 'mallory@contoso');
  const text = await nexus(['preview', '--stack', 'online']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /^online: 0 create, 1 update, 0 replace, 0 delete, 0 same$/m);
  assert.match(text.stdout, /^ {2}update {3}\/providers\/Microsoft\.Management\/managementGroups\/online\n {13}~ properties\.displayName: "Online \(renamed\)" -> "Online"$/m);

  const json = JSON.parse((await nexus(['preview', '--stack', 'online', '--json'])).stdout);
  const [s] = json.stacks;
  assert.equal(s.summary, { create: 0, update: 1, replace: 0, delete: 0, same: 0 });
  assert.equal(s.changes.map((c: { op: string; armId: string; diffs: unknown }) => [c.op, c.armId, c.diffs]), [
    ['update', group, [{ path: 'properties.displayName', kind: 'update', old: 'Online (renamed)', new: 'Online' }]],
  ]);
});

test.run();

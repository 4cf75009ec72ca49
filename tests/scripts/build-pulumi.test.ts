// scripts/build-pulumi.sh without building anything: the launcher, a pulumi of the pinned
// version on PATH (linked, no build), one of another version (not used), and the build cache.
// NEXUS_PULUMI_NO_BUILD=1 keeps every case from starting a Go build.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PINNED_PULUMI_VERSION, cacheBinDir } from '../../stacks/engine/cli.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/build-pulumi.sh', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'nexus-build-pulumi-test-'));

function fakePulumi(version: string): string {
  const dir = tmp();
  writeFileSync(join(dir, 'pulumi'), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
  return dir;
}

/** Runs the script with only node, the system tools and `extraPath` on PATH. */
function run(args: string[], env: Record<string, string>, extraPath = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const PATH = [extraPath, dirname(process.execPath), '/usr/bin', '/bin'].filter(Boolean).join(':');
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, ...args], { env: { HOME: tmp(), PATH, NEXUS_PULUMI_NO_BUILD: '1', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('--launcher-only writes an executable launcher that runs the provider host it is given', async () => {
  const tools = tmp();
  const r = await run(['--launcher-only'], { NEXUS_TOOLS_DIR: tools });
  assert.is(r.code, 0, r.stderr);
  const bin = join(tools, `pulumi-v${PINNED_PULUMI_VERSION}`, 'bin');
  assert.is(r.stdout.trim(), bin);
  const launcher = join(bin, 'pulumi-resource-pulumi-nodejs');
  accessSync(launcher, constants.X_OK);
  assert.not.ok(existsSync(join(bin, 'pulumi')), 'no CLI was built or linked');

  const host = join(tmp(), 'host.js');
  writeFileSync(host, 'console.log(JSON.stringify(process.argv.slice(2)))\n');
  const out = await new Promise<string>((resolve, reject) =>
    execFile(launcher, ['a', 'b c'], { env: { PATH: '/usr/bin:/bin', NEXUS_NODE: process.execPath, NEXUS_PULUMI_DYNAMIC_PROVIDER: host } },
      (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))));
  assert.equal(JSON.parse(out), ['a', 'b c']);
});

test('a pulumi of the pinned version on PATH is linked and its folder printed, without building', async () => {
  const tools = tmp();
  const fake = fakePulumi(PINNED_PULUMI_VERSION);
  const r = await run([], { NEXUS_TOOLS_DIR: tools }, fake);
  assert.is(r.code, 0, r.stderr);
  const bin = cacheBinDir({ NEXUS_TOOLS_DIR: tools });
  assert.is(r.stdout.trim(), bin);
  assert.ok(lstatSync(join(bin, 'pulumi')).isSymbolicLink());
  assert.is(readlinkSync(join(bin, 'pulumi')), join(fake, 'pulumi'));
  accessSync(join(bin, 'pulumi-resource-pulumi-nodejs'), constants.X_OK);
  assert.not.ok(existsSync(join(tools, `pulumi-v${PINNED_PULUMI_VERSION}`, 'src')), 'no build was started');
});

test('a pulumi of another version on PATH is not used: with builds off, exit 2 naming it', async () => {
  const tools = tmp();
  const fake = fakePulumi('3.100.0');
  const r = await run([], { NEXUS_TOOLS_DIR: tools }, fake);
  assert.is(r.code, 2, r.stdout + r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, `pulumi v${PINNED_PULUMI_VERSION} is neither on PATH (${join(fake, 'pulumi')} is v3.100.0) nor built in`);
  assert.match(r.stderr, 'NEXUS_PULUMI_NO_BUILD=1 forbids building it');
  assert.not.ok(existsSync(join(cacheBinDir({ NEXUS_TOOLS_DIR: tools }), 'pulumi')));
});

test('a CLI already built in the cache is used as it is', async () => {
  const tools = tmp();
  const bin = cacheBinDir({ NEXUS_TOOLS_DIR: tools });
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'pulumi'), `#!/bin/sh\necho v${PINNED_PULUMI_VERSION}\n`, { mode: 0o755 });
  const r = await run([], { NEXUS_TOOLS_DIR: tools });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), bin);
  assert.not.ok(lstatSync(join(bin, 'pulumi')).isSymbolicLink());
});

test('NEXUS_PULUMI_VERSION picks the folder the engine looks in too', async () => {
  const tools = tmp();
  const r = await run([], { NEXUS_TOOLS_DIR: tools, NEXUS_PULUMI_VERSION: '3.200.1' }, fakePulumi('3.200.1'));
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), cacheBinDir({ NEXUS_TOOLS_DIR: tools, NEXUS_PULUMI_VERSION: '3.200.1' }));
  assert.match(r.stdout, /pulumi-v3\.200\.1\/bin$/m);
});

test.run();

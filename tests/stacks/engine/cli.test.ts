import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PINNED_PULUMI_VERSION, PulumiCliNotFoundError, PulumiCliVersionError, cacheBinDir, cliEnv, findResourcePlugin,
  locatePulumi, pulumiCommand, wantedPulumiVersion,
} from '../../../stacks/engine/cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'nexus-cli-test-'));

/** A folder whose `pulumi` answers `pulumi version` as a real CLI would. */
function dirWithPulumi(version = PINNED_PULUMI_VERSION, dir = tmp()): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pulumi'), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
  return dir;
}

test('NEXUS_PULUMI_DIR wins over PATH and the cache', () => {
  const given = dirWithPulumi();
  const onPath = dirWithPulumi();
  assert.equal(locatePulumi({ NEXUS_PULUMI_DIR: given, PATH: onPath }), { binDir: given, source: 'NEXUS_PULUMI_DIR' });
});

test('a pulumi of the pinned version on PATH is used before the build cache', () => {
  const tools = tmp();
  dirWithPulumi(PINNED_PULUMI_VERSION, cacheBinDir({ NEXUS_TOOLS_DIR: tools }));
  const onPath = dirWithPulumi();
  const empty = tmp();
  assert.equal(locatePulumi({ PATH: `${empty}:${onPath}`, NEXUS_TOOLS_DIR: tools }), { binDir: onPath, source: 'PATH' });
});

test('a pulumi of another version on PATH is passed over for the cached build', () => {
  const tools = tmp();
  const cached = dirWithPulumi(PINNED_PULUMI_VERSION, cacheBinDir({ NEXUS_TOOLS_DIR: tools }));
  const wrong = dirWithPulumi('3.100.0');
  assert.equal(locatePulumi({ PATH: wrong, NEXUS_TOOLS_DIR: tools }), { binDir: cached, source: 'cache' });
});

test('only a pulumi of another version: the error names it and its version', () => {
  const wrong = dirWithPulumi('3.100.0');
  try {
    locatePulumi({ PATH: wrong, NEXUS_TOOLS_DIR: tmp() });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PulumiCliNotFoundError);
    assert.match((e as Error).message, `PATH (${join(wrong, 'pulumi')} is v3.100.0)`);
    assert.match((e as Error).message, `the Pulumi CLI v${PINNED_PULUMI_VERSION} was not found`);
  }
});

test('the build cache under NEXUS_TOOLS_DIR is found by the pinned version', () => {
  const tools = tmp();
  const bin = join(tools, `pulumi-v${PINNED_PULUMI_VERSION}`, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'pulumi'), '', { mode: 0o755 });
  assert.equal(locatePulumi({ PATH: '', NEXUS_TOOLS_DIR: tools }), { binDir: bin, source: 'cache' });
});

test('NEXUS_PULUMI_VERSION picks the build folder and the version wanted on PATH, as build-pulumi.sh does', () => {
  const tools = tmp();
  const env = { NEXUS_TOOLS_DIR: tools, NEXUS_PULUMI_VERSION: '3.200.1' };
  assert.is(wantedPulumiVersion(env), '3.200.1');
  assert.is(cacheBinDir(env), join(tools, 'pulumi-v3.200.1', 'bin'));
  const other = dirWithPulumi('3.200.1');
  const pinned = dirWithPulumi();
  assert.equal(locatePulumi({ ...env, PATH: `${pinned}:${other}` }), { binDir: other, source: 'PATH' });
});

test('no CLI anywhere: an error that says where it looked and what to run', () => {
  const tools = tmp();
  try {
    locatePulumi({ PATH: '', NEXUS_TOOLS_DIR: tools, NEXUS_PULUMI_DIR: join(tools, 'nope') });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PulumiCliNotFoundError);
    assert.match((e as Error).message, /NEXUS_PULUMI_DIR=.*nope, PATH, .*pulumi-v/);
    assert.match((e as Error).message, /scripts\/build-pulumi\.sh/);
  }
});

test('a CLI folder not named bin is run from that folder', async () => {
  const dir = dirWithPulumi(PINNED_PULUMI_VERSION, join(tmp(), 'pulumi-cli'));
  const cmd = await pulumiCommand({ NEXUS_PULUMI_DIR: dir, PATH: '' });
  assert.is(cmd.version?.toString(), PINNED_PULUMI_VERSION);
  assert.ok(existsSync(cmd.command), cmd.command);
  assert.match(cmd.command, /\/bin\/pulumi$/);
});

test('NEXUS_PULUMI_DIR holding another version is refused with what to run', async () => {
  const dir = dirWithPulumi('3.100.0');
  const err = await pulumiCommand({ NEXUS_PULUMI_DIR: dir, PATH: '' }).then(() => undefined, (e) => e);
  assert.instance(err, PulumiCliVersionError);
  assert.match(err.message, `${join(dir, 'pulumi')} is Pulumi v3.100.0, but Nexus runs v${PINNED_PULUMI_VERSION}`);
  assert.match(err.message, /scripts\/build-pulumi\.sh/);
});

test('cliEnv builds PATH and PULUMI_HOME from the env it is given, not the process', () => {
  const tools = tmp();
  const e = cliEnv({ binDir: '/opt/p/bin', source: 'NEXUS_PULUMI_DIR' }, { PATH: '/given/bin', NEXUS_TOOLS_DIR: tools, PULUMI_HOME: '/ph' });
  assert.is(e.PATH, `/opt/p/bin:${cacheBinDir({ NEXUS_TOOLS_DIR: tools })}:/given/bin`);
  assert.is(e.PULUMI_HOME, '/ph');
  assert.is(e.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, 'true');
});

test('a resource plugin is found installed under PULUMI_HOME, not when half-installed, or on PATH', () => {
  const home = tmp();
  const dir = join(home, 'plugins', 'resource-azure-native-v3.28.0');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pulumi-resource-azure-native'), '', { mode: 0o755 });
  const env = { PULUMI_HOME: home, PATH: '' };
  assert.equal(findResourcePlugin('azure-native', '3.28.0', undefined, env), { file: join(dir, 'pulumi-resource-azure-native'), source: 'plugins' });
  assert.is(findResourcePlugin('azure-native', '3.29.0', undefined, env), undefined);
  writeFileSync(`${dir}.partial`, '');
  assert.is(findResourcePlugin('azure-native', '3.28.0', undefined, env), undefined);
  const ambient = tmp();
  writeFileSync(join(ambient, 'pulumi-resource-azure-native'), '', { mode: 0o755 });
  assert.equal(findResourcePlugin('azure-native', '3.28.0', undefined, { ...env, PATH: ambient }), { file: join(ambient, 'pulumi-resource-azure-native'), source: 'PATH' });
});

test('the real CLI answers with the pinned version', async () => {
  const cmd = await pulumiCommand(process.env);
  assert.is(cmd.version?.toString(), PINNED_PULUMI_VERSION);
});

test.run();

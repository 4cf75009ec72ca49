import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PINNED_PULUMI_VERSION, PulumiCliNotFoundError, locatePulumi, pulumiCommand } from '../../../stacks/engine/cli.ts';

function dirWithPulumi(): string {
  const d = mkdtempSync(join(tmpdir(), 'nexus-cli-test-'));
  writeFileSync(join(d, 'pulumi'), '#!/bin/sh\n', { mode: 0o755 });
  return d;
}

test('NEXUS_PULUMI_DIR wins over PATH and the cache', () => {
  const given = dirWithPulumi();
  const onPath = dirWithPulumi();
  assert.equal(locatePulumi({ NEXUS_PULUMI_DIR: given, PATH: onPath }), { binDir: given, source: 'NEXUS_PULUMI_DIR' });
});

test('PATH is used before the build cache', () => {
  const onPath = dirWithPulumi();
  const empty = mkdtempSync(join(tmpdir(), 'nexus-cli-test-'));
  assert.equal(locatePulumi({ PATH: `${empty}:${onPath}` }), { binDir: onPath, source: 'PATH' });
});

test('the build cache under NEXUS_TOOLS_DIR is found by the pinned version', () => {
  const tools = mkdtempSync(join(tmpdir(), 'nexus-cli-test-'));
  const bin = join(tools, `pulumi-v${PINNED_PULUMI_VERSION}`, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'pulumi'), '', { mode: 0o755 });
  assert.equal(locatePulumi({ PATH: '', NEXUS_TOOLS_DIR: tools }), { binDir: bin, source: 'cache' });
});

test('no CLI anywhere: an error that says where it looked and what to run', () => {
  const tools = mkdtempSync(join(tmpdir(), 'nexus-cli-test-'));
  try {
    locatePulumi({ PATH: '', NEXUS_TOOLS_DIR: tools, NEXUS_PULUMI_DIR: join(tools, 'nope') });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PulumiCliNotFoundError);
    assert.match((e as Error).message, /NEXUS_PULUMI_DIR=.*nope, PATH, .*pulumi-v/);
    assert.match((e as Error).message, /scripts\/build-pulumi\.sh/);
  }
});

test('the real CLI answers with the pinned version', async () => {
  const cmd = await pulumiCommand();
  assert.is(cmd.version?.toString(), PINNED_PULUMI_VERSION);
});

test.run();

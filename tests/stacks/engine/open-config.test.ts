// Opening a stack writes its plain config into the stack's settings file with the workspace
// instead of running `pulumi config set-all` (a CLI start per open). With the real CLI and state
// in Azurite, the config must be what the CLI reads, both when the stack is created (`stack
// init`) and when it already exists (`stack select` in a fresh working folder, or no select at
// all when the caller knows the backend holds it), secrets included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azurite } from '../../helpers/azurite.ts';
import { sandbox } from '../../helpers/sandbox.ts';
import { openStack } from '../../../stacks/engine/index.ts';
import { smallState } from './small-state.ts';

test('plain config and secrets are set on a new stack and on an existing one opened again', async () => {
  const [az, sb] = await Promise.all([azurite(), sandbox()]);
  const env = { ...process.env, ...az.env, ...sb.env, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-home-')) };
  const fx = smallState();
  const expected = {
    'nexus:stack': fx.stack,
    'nexus:resourceBackend': 'arm-rest',
    'nexus:rootManagementGroupId': fx.state.rootManagementGroupId,
    'azure-native:location': fx.state.location,
    'nexus:token': '[secret]',
  };
  // `known`: the caller says the backend holds the stack, so it is used without `stack select`.
  for (const when of ['created', 'selected', 'known']) {
    const stateExists = when === 'known' ? async () => true : undefined;
    const stack = await openStack({ state: fx.state, stack: fx.stack, resourceBackend: 'arm-rest', env, secrets: { token: 'not-in-the-clear' }, stateExists });
    try {
      assert.equal(await stack.config(), expected, `config of the ${when} stack`);
      // The engine runs with it: the state is readable and empty before any update.
      const dep = (await stack.exportState()) as { resources?: unknown[] };
      assert.is(dep.resources?.length ?? 0, 0);
    } finally {
      stack.close();
    }
  }
});

test('a stack said to exist is not selected: opening one the backend lacks succeeds, its first operation fails', async () => {
  const [az, sb] = await Promise.all([azurite(), sandbox()]);
  const env = { ...process.env, ...az.env, ...sb.env, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-home-')) };
  const fx = smallState();
  const stack = await openStack({ state: fx.state, stack: fx.stack, resourceBackend: 'arm-rest', env, stateExists: async () => true });
  try {
    await stack.exportState().then(() => assert.unreachable('the stack was never created'), (err: Error) => assert.match(err.message, /no stack named|not found/i));
  } finally {
    stack.close();
  }
});

test.run();

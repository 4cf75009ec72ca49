// State survives a restart of Azurite itself: the stack is applied, Azurite is stopped and
// started again on the same folder (new ports, as after a reboot), and the stack's state is
// still there. This is what `npm run up` relies on with .nexus/azurite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type AzuriteHandle } from '../../../scripts/lib/azurite.ts';
import { sandbox } from '../../helpers/sandbox.ts';
import { openStack } from '../../../stacks/engine/index.ts';
import { smallState } from './small-state.ts';

const fx = smallState();
const location = mkdtempSync(join(tmpdir(), 'nexus-azurite-restart-'));
const home = mkdtempSync(join(tmpdir(), 'nexus-home-'));
let az: AzuriteHandle | undefined;

const answers = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

async function withStack<T>(f: (s: Awaited<ReturnType<typeof openStack>>) => Promise<T>): Promise<T> {
  const sb = await sandbox();
  const s = await openStack({ state: fx.state, stack: fx.stack, resourceBackend: 'arm-rest', env: { ...az!.env, ...sb.env, NEXUS_HOME: home } });
  try { return await f(s); } finally { s.close(); }
}

test.after(async () => { await az?.stop(); });

test('stop Azurite, start it again on the same folder: the stack state and outputs are still there', async () => {
  az = await startAzurite({ location });
  const applied = await withStack(async (s) => {
    const cs = await s.up();
    return { summary: cs.summary, outputs: await s.outputs() };
  });
  assert.equal(applied.summary, { create: 4, update: 0, replace: 0, delete: 0, same: 0 });
  assert.equal(applied.outputs, { resourceCount: 4 });

  const { blobPort } = az;
  await az.stop();
  assert.is(await answers(blobPort), false, 'Azurite is really stopped');

  az = await startAzurite({ location });
  const after = await withStack(async (s) => ({ preview: await s.preview(), outputs: await s.outputs() }));
  assert.equal(after.preview.summary, { create: 0, update: 0, replace: 0, delete: 0, same: 4 });
  assert.equal(after.outputs, applied.outputs);
});

test.run();

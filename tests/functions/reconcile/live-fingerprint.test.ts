// The live fingerprint pins an approval to the state it was given under. The loop reads the state
// file straight from the azblob backend instead of running `pulumi stack export` for it: with the
// real engine, Azurite and the ARM sandbox, both ways must give the same fingerprint, before and
// after the state moves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { liveParts, releaseLive, unique, type Live } from './live.ts';
import { mg, smallState } from './state-fixture.ts';
import { liveFingerprint } from '../../../functions/reconcile/loop.ts';
import { BlobStore } from '../../../functions/platform/blobs.ts';
import { PulumiCheckpoints } from '../../../functions/platform/pulumi-checkpoints.ts';
import { PROJECT } from '../../../stacks/engine/index.ts';

let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

const allowRc = { scopes: { allow: { managementGroups: ['rc*'] } } };

test('the fingerprint read from the state file equals the one from the engine export, also after a refresh', async () => {
  const name = unique('rcfp');
  const state = smallState({ tenantRoot: L.tenantRoot, name, assignments: 2, roleAssignment: '9a0b1c2d-0000-4000-8000-0000000000f1' });
  const rec = await L.reconciler(() => state, allowRc);
  const first = await rec.reconcile({ stack: name, trigger: 'manual' });
  assert.is(first.status === 'done' && first.run.decision, 'applied');

  const engine = await rec.deps.openStack({ state, stack: name });
  try {
    const stored = await engine.storedState?.();
    assert.ok(stored, 'the azblob backend state file is read directly');
    assert.is(stored.resources.length, 6, 'the stack, its provider, the group, two assignments and the role assignment');
    const exported = () => liveFingerprint({ exportState: () => engine.exportState() });
    const before = await liveFingerprint(engine);
    assert.is(before, await exported());
    const again = await rec.reconcile({ stack: name, trigger: 'manual' });
    const run = again.status === 'done' ? again.run : undefined;
    assert.is(run?.decision, 'no-change');
    assert.is(run?.liveFingerprint, before, 'the no-change run recorded the same fingerprint');

    L.sideDoorUpdate(`${mg(name)}/providers/Microsoft.Authorization/policyAssignments/rc-audit-1`, { properties: { enforcementMode: 'DoNotEnforce' } }, 'mallory@contoso.com');
    await engine.refresh();
    const after = await liveFingerprint(engine);
    assert.is.not(after, before, 'the refreshed state moved the fingerprint');
    assert.is(after, await exported());
  } finally {
    engine.close?.();
  }
});

test('a gzipped state file is read; a stack without one, or with both files, is left to the CLI', async () => {
  const cfg = L.stores.cfg;
  const container = `fpstate${unique('')}`;
  const checkpoints = (await PulumiCheckpoints.open(cfg, { container, prefix: 'pre' }))!;
  const blobs = await BlobStore.open(container, cfg);
  const file = (urn: string) => JSON.stringify({ version: 3, checkpoint: { stack: 's', latest: { resources: [{ urn, type: 't' }] } } });
  assert.is(await checkpoints.stackDeployment(PROJECT, 'none'), undefined);

  await blobs.putText(`pre/.pulumi/stacks/${PROJECT}/plain.json`, file('urn:plain'));
  assert.equal(await checkpoints.stackDeployment(PROJECT, 'plain'), { resources: [{ urn: 'urn:plain', type: 't' }] });

  const gz = gzipSync(Buffer.from(file('urn:gz')));
  await blobs.blobClient(`pre/.pulumi/stacks/${PROJECT}/zipped.json.gz`).upload(gz, gz.length);
  assert.equal(await checkpoints.stackDeployment(PROJECT, 'zipped'), { resources: [{ urn: 'urn:gz', type: 't' }] });

  await blobs.blobClient(`pre/.pulumi/stacks/${PROJECT}/plain.json.gz`).upload(gz, gz.length);
  assert.is(await checkpoints.stackDeployment(PROJECT, 'plain'), undefined, 'both files: the CLI picks');
});

test('with a secret in the state, the export decides (the state file holds it encrypted, the export decrypted)', async () => {
  const sig = '4dabf18193072939515e22adb298388d';
  const resource = (secret: Record<string, string>) => ({ urn: 'urn:pulumi:s::nexus::t::r', type: 't', id: 'r', outputs: { key: { [sig]: '1b47061264138c4ac30d75fd1eb44270', ...secret } } });
  let exports = 0;
  const engine = (stored: unknown) => ({
    storedState: async () => stored as { resources: unknown[] },
    exportState: async () => { exports++; return { resources: [resource({ plaintext: '"v1"' })] }; },
  });
  const fromExport = await liveFingerprint({ exportState: engine(undefined).exportState });
  exports = 0;
  assert.is(await liveFingerprint(engine({ resources: [resource({ ciphertext: 'AAAA' })] })), fromExport);
  assert.is(exports, 1, 'asked the export');
  assert.is(await liveFingerprint(engine(undefined)), fromExport, 'no state file: the export');
  assert.is(exports, 2);
  const plain = { resources: [{ urn: 'urn:pulumi:s::nexus::t::r', type: 't', id: 'r', outputs: { key: 'v1' } }] };
  await liveFingerprint(engine(plain));
  assert.is(exports, 2, 'no secret: the state file alone');
});

test.run();

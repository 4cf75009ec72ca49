// The local runtime's job timers (functions/jobs.ts startJobs): the real Pulumi-state job on its
// own interval, with nothing calling runNow, against Azurite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { azurite } from '../helpers/azurite.ts';
import { waitFor } from '../helpers/wait.ts';
import { freshCatalog } from './catalog/fresh.ts';
import { pulumiStateJob, startJobs } from '../../functions/jobs.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { BlobStore } from '../../functions/platform/blobs.ts';
import { armConfig } from '../../functions/platform/arm.ts';
import { backendSettings } from '../../stacks/engine/backend.ts';
import { loadConfig } from '../../functions/runtime/config.ts';

test('the Pulumi state job runs on its interval: a state file written while it runs reaches the catalog', async () => {
  const az = await azurite();
  const folder = `jobs-${randomBytes(4).toString('hex')}`;
  const env = {
    ...az.env,
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/${folder}?domain=127.0.0.1:${az.blobPort}&protocol=http`,
    // 0.002 minutes: about every 120 ms.
    NEXUS_PULUMI_STATE_POLL_MINUTES: '0.002',
  };
  const storage = storageConfig(loadConfig(env).storage);
  const catalog = await freshCatalog();
  const config = loadConfig(env);
  const job = (await pulumiStateJob({ catalog, storage, arm: armConfig(config.arm), config, backend: backendSettings(config.engine.env) }))!;
  assert.is(job.everyMs, 120);
  const lines: string[] = [];
  const jobs = startJobs([job], (l) => lines.push(l), { runAtStart: false });
  try {
    const stack = `jobs-${folder}`;
    const exported = JSON.parse(readFileSync(new URL('../fixtures/catalog/pulumi/landing-zone-corp.json', import.meta.url), 'utf8'));
    const blobs = await BlobStore.open('pulumi-state', storage);
    await blobs.putText(`${folder}/.pulumi/stacks/nexus/${stack}.json`, JSON.stringify({ version: 3, checkpoint: { stack, latest: exported.deployment } }));
    const entity = await waitFor(() => catalog.get(`stack:default/${stack}`, { consistent: true }), { what: `the job's timer to import stack ${stack}`, timeoutMs: 10_000 });
    assert.is(entity.spec.resourceCount, 3);
    // The run's summary is logged once the whole import is written.
    await waitFor(() => lines.some((l) => /^pulumi-state-ingestion: 1 stacks imported, 3 resources/.test(l)), { what: 'the run\'s summary in the log', timeoutMs: 10_000 });
    // The next runs find the state file unchanged and import nothing.
    await waitFor(() => lines.some((l) => l === 'pulumi-state-ingestion: 0 stacks imported, 0 resources, 0 orphaned'), { what: 'a later run to skip the unchanged state file', timeoutMs: 10_000 });
    assert.is(lines.filter((l) => /: 1 stacks imported/.test(l)).length, 1, lines.join('\n'));
    assert.not.ok(lines.some((l) => /failed/.test(l)), lines.join('\n'));
  } finally {
    await jobs.stop();
  }
  // Stopped means stopped: no run after stop() resolved.
  const after = lines.length;
  await new Promise((r) => setTimeout(r, 400));
  assert.is(lines.length, after);
});

test.run();

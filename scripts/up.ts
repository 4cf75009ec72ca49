// `npm run up`: the whole local system in one process tree. Azurite and the ARM sandbox keep
// their data under NEXUS_HOME (.nexus/), so a restart finds the tenant and Pulumi state as it
// left them. On the first run the default tenant is applied into the sandbox through the same
// reconcile path (and gates) as every other apply.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite } from './lib/azurite.ts';
import { localSecrets } from './lib/local-secrets.ts';
import { startSandbox } from './sandbox/server.ts';
import { localEnvFile, formatEnvFile } from '../functions/cli/local-env.ts';
import { DEFAULT_HOME } from '../functions/runtime/config.ts';

const NEXUS_HOME = process.env.NEXUS_HOME || DEFAULT_HOME;
const LOCAL_ENV_FILE = localEnvFile(NEXUS_HOME);

const log = (msg: string) => process.stdout.write(`[up] ${msg}\n`);

async function main(): Promise<void> {
  mkdirSync(NEXUS_HOME, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    for (const stop of stops.reverse()) await stop().catch((err) => log(`stop failed: ${err.message}`));
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const storage = await startAzurite({ location: join(NEXUS_HOME, 'azurite') });
    stops.push(storage.stop);
    log(`Azurite: tables ${storage.tableEndpoint}, blobs ${storage.blobEndpoint}, queues ${storage.queueEndpoint}`);

    const sandbox = await startSandbox({ dataFile: join(NEXUS_HOME, 'sandbox.json') });
    stops.push(sandbox.stop);
    log(`ARM sandbox: ${sandbox.url}`);

    const port = Number(process.env.PORT ?? 7070);
    // The passphrase file is the source of truth once it exists (the state in .nexus/azurite is
    // encrypted with it); local.env only carries a copy for the CLI.
    const { secrets, notes } = localSecrets(NEXUS_HOME, LOCAL_ENV_FILE);
    for (const n of notes) log(n);
    const env: Record<string, string> = {
      ...secrets,
      ...storage.env,
      ...sandbox.env,
      NEXUS_RESOURCE_BACKEND: 'arm-rest',
      NEXUS_LOCAL_ISSUER: '1',
      NEXUS_API_URL: `http://127.0.0.1:${port}`,
      NEXUS_HOME,
    };
    Object.assign(process.env, env);
    writeFileSync(LOCAL_ENV_FILE, formatEnvFile(env), { mode: 0o600 });
    log(`CLI settings written to ${LOCAL_ENV_FILE}`);

    const { startLocalRuntime } = await import('../functions/local.ts');
    const { processConfig } = await import('../functions/runtime/config.ts');
    const runtime = await startLocalRuntime({ port, log, config: processConfig() });
    stops.push(runtime.stop);
    // The `ready:` line follows once the default tenant is applied (a few minutes on a first start).
    log(`Nexus is serving on http://127.0.0.1:${port} (Ctrl-C stops everything); \`npx nexus doctor\` shows the first apply's progress`);
    log(`a token for the API: npx nexus dev-token --user you --role Admin`);
  } catch (err) {
    log(`failed to start: ${(err as Error).stack ?? err}`);
    await stopAll(1);
  }
}

await main();

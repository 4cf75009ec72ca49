// `npm run up`: the whole local system in one process tree. Azurite, the ARM sandbox and the
// GitHub stand-in keep their data under NEXUS_HOME (.nexus/), so a restart finds the tenant,
// Pulumi state and the landing-zone repository as it left them. On the first run the default
// tenant is applied into the sandbox through the same reconcile path (and gates) as every other
// apply; the landing-zone repository contoso/landing-zones starts as a copy of archetypes/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from './lib/azurite.ts';
import { localSecrets } from './lib/local-secrets.ts';
import { startSandbox } from './sandbox/server.ts';
import { LANDING_ZONE_REPO, startGitHubStandIn } from './sandbox/github/server.ts';
import { DEFAULT_REPO as ADO_REPO, startAzureDevOpsStandIn } from './sandbox/azure-devops/server.ts';
import { localEnvFile, formatEnvFile } from '../functions/cli/local-env.ts';
import { DEFAULT_HOME } from '../functions/runtime/config.ts';

const NEXUS_HOME = process.env.NEXUS_HOME || DEFAULT_HOME;
const LOCAL_ENV_FILE = localEnvFile(NEXUS_HOME);
const ARCHETYPES = fileURLToPath(new URL('../archetypes', import.meta.url));

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

    // The GitHub stand-in sits on the port after Nexus's, the same on every start, so clones keep
    // working across restarts. Its webhooks go to Nexus, which starts later: deliveries are
    // retried with back-off until it answers.
    const github = await startGitHubStandIn({
      dataDir: join(NEXUS_HOME, 'github'),
      port: port + 1,
      webhook: { url: `http://127.0.0.1:${port}/webhooks/github`, secret: secrets.NEXUS_GITHUB_WEBHOOK_SECRET, attempts: 12 },
    });
    stops.push(github.stop);
    const seeded = await github.seed(LANDING_ZONE_REPO, ARCHETYPES, { login: 'alice', message: 'Landing zones from Nexus\'s archetypes' });
    log(`GitHub stand-in: ${github.url} (${LANDING_ZONE_REPO} ${seeded.created ? 'seeded from archetypes/ at' : 'at'} ${seeded.sha.slice(0, 7)}); clone it with git clone "$NEXUS_LANDING_ZONE_GIT_URL"`);
    // An Azure DevOps stand-in too, on the port after that: set NEXUS_LANDING_ZONE_REPO to
    // azure-devops:contoso/platform/landing-zones before `npm run up` to drive Nexus from it instead.
    const ado = await startAzureDevOpsStandIn({
      dataDir: join(NEXUS_HOME, 'azure-devops'), port: port + 2,
      webhook: { url: `http://127.0.0.1:${port}/webhooks/azure-devops`, secret: secrets.NEXUS_ADO_WEBHOOK_SECRET },
    });
    stops.push(ado.stop);
    await ado.seed(ADO_REPO, ARCHETYPES);
    const fromAdo = process.env.NEXUS_LANDING_ZONE_REPO === `azure-devops:${ADO_REPO}`;
    log(`Azure DevOps stand-in: ${ado.url} (${ADO_REPO})${fromAdo ? '; Nexus is driven from it' : ''}`);
    const env: Record<string, string> = {
      ...secrets,
      ...storage.env,
      ...sandbox.env,
      ...github.env,
      NEXUS_ADO_URL: ado.env.NEXUS_ADO_URL,
      NEXUS_ADO_PAT: ado.env.NEXUS_ADO_PAT,
      ...(fromAdo ? { NEXUS_LANDING_ZONE_REPO: ado.env.NEXUS_LANDING_ZONE_REPO, NEXUS_LANDING_ZONE_GIT_URL: ado.env.NEXUS_LANDING_ZONE_GIT_URL } : {}),
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

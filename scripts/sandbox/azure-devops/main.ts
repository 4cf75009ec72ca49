// Runs the Azure DevOps stand-in on its own:
// `node --import tsx scripts/sandbox/azure-devops/main.ts --data DIR [--port N] [--webhook URL --secret S] [--seed FOLDER]`.
// Seeds contoso/platform/landing-zones from FOLDER (default archetypes/) and prints the environment
// a client needs (export lines; the PAT is a local test token).
import { join } from 'node:path';
import { DEFAULT_REPO, startAzureDevOpsStandIn } from './server.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const fail = (message: string) => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};
const port = arg('--port') ? Number(arg('--port')) : undefined;
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) fail(`--port must be a port number, not '${arg('--port')}'`);
const dataDir = arg('--data') ?? fail('--data DIR is required (the bare repositories live there)');
const webhookUrl = arg('--webhook');
const secret = arg('--secret');
if (webhookUrl && !secret) fail('--webhook needs --secret (the service hook\'s basic auth password)');
const ado = await startAzureDevOpsStandIn({ dataDir: dataDir!, port, webhook: webhookUrl ? { url: webhookUrl, secret: secret! } : undefined });
const head = await ado.seed(DEFAULT_REPO, arg('--seed') ?? join(process.cwd(), 'archetypes'));
for (const [k, v] of Object.entries(ado.env)) process.stdout.write(`export ${k}='${v}'\n`);
process.stderr.write(`Azure DevOps stand-in on ${ado.url} (${DEFAULT_REPO} at ${head.slice(0, 12)}); Ctrl-C stops it\n`);
const stop = () => void ado.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// Runs the GitHub stand-in on its own:
// `node --import tsx scripts/sandbox/github/main.ts --data DIR [--port N] [--seed FOLDER] [--webhook URL --secret S]`.
// Prints the environment a client needs (export lines, tokens included: they are local test tokens).
import { LANDING_ZONE_REPO, startGitHubStandIn } from './server.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const fail = (msg: string) => {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
};
const dataDir = arg('--data') ?? fail('--data DIR is required (the bare repositories and state.json live there)');
const port = arg('--port') ? Number(arg('--port')) : undefined;
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) fail(`--port must be a port number, not '${arg('--port')}'`);
const url = arg('--webhook');
const secret = arg('--secret');
if (Boolean(url) !== Boolean(secret)) fail('--webhook and --secret go together');
const gh = await startGitHubStandIn({ dataDir: dataDir as string, port, webhook: url && secret ? { url, secret } : undefined });
const seed = arg('--seed');
if (seed) {
  const { sha, created } = await gh.seed(LANDING_ZONE_REPO, seed);
  process.stderr.write(`${LANDING_ZONE_REPO} ${created ? 'seeded' : 'already holds'} ${sha}\n`);
}
for (const [k, v] of Object.entries(gh.env)) process.stdout.write(`export ${k}='${v}'\n`);
process.stderr.write(`GitHub stand-in on ${gh.url} (API ${gh.apiUrl}); Ctrl-C stops it\n`);
const stop = () => void gh.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// Runs the ARM sandbox on its own: `node --import tsx scripts/sandbox/main.ts [--data FILE] [--port N]`.
// Prints the environment a client needs (export lines, the token included: it is a local test token).
import { startSandbox } from './server.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const port = arg('--port') ? Number(arg('--port')) : undefined;
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
  process.stderr.write(`--port must be a port number, not '${arg('--port')}'\n`);
  process.exit(2);
}
const sb = await startSandbox({ dataFile: arg('--data'), port });
for (const [k, v] of Object.entries(sb.env)) process.stdout.write(`export ${k}='${v}'\n`);
process.stderr.write(`ARM sandbox on ${sb.url} (tenant ${sb.tenantId}); Ctrl-C stops it\n`);
const stop = () => void sb.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

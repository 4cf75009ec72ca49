// Starts the Azurite emulator (Blob, Queue, Table) on loopback for tests and `npm run up`.
// Ports are free ones picked at start, unless given, so several test runs never collide.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';

/** The well-known development account that Azurite accepts. Not a secret. */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  blobPort: number;
  tablePort: number;
  queuePort: number;
  blobEndpoint: string;
  tableEndpoint: string;
  queueEndpoint: string;
  connectionString: string;
  /** Environment for child processes (the Pulumi CLI's azblob backend reads these). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface AzuriteOptions {
  /** Folder for the emulator's data; a fresh temporary one when omitted. */
  location?: string;
  blobPort?: number;
  tablePort?: number;
  queuePort?: number;
  /** Keep everything in memory (benchmarks seeding 100,000 rows: the on-disk store slows as it grows). */
  inMemory?: boolean;
}

export async function startAzurite(opts: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const location = opts.location ?? mkdtempSync(join(tmpdir(), 'nexus-azurite-'));
  mkdirSync(location, { recursive: true });
  const blobPort = opts.blobPort ?? (await freePort());
  const tablePort = opts.tablePort ?? (await freePort());
  const queuePort = opts.queuePort ?? (await freePort());
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry',
      ...(opts.inMemory ? ['--inMemoryPersistence'] : ['--location', location]),
      '--blobPort', String(blobPort), '--tablePort', String(tablePort), '--queuePort', String(queuePort)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 30s:\n${output}`)), 30_000);
    const check = () => {
      if (['Table', 'Blob', 'Queue'].every((s) => output.includes(`${s} service is successfully listening`))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  // A test process or CLI must be able to end while the emulator runs; the owner stops it.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();
  const blobEndpoint = `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT}`;
  const tableEndpoint = `http://127.0.0.1:${tablePort}/${DEV_ACCOUNT}`;
  const queueEndpoint = `http://127.0.0.1:${queuePort}/${DEV_ACCOUNT}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`;
  return {
    blobPort, tablePort, queuePort, blobEndpoint, tableEndpoint, queueEndpoint, connectionString,
    env: {
      NEXUS_STORAGE_CONNECTION_STRING: connectionString,
      AZURE_STORAGE_ACCOUNT: DEV_ACCOUNT,
      AZURE_STORAGE_KEY: DEV_KEY,
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // Held while it stops, so a caller that awaits the stop is not ended by an empty event loop.
        child.ref();
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

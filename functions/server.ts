// The local API server: the opened Nexus's Hono app on @hono/node-server, plus the background work
// that Azure Functions would run on timers (draining the webhook inbox). `close()` stops what it
// started; the Nexus stays open for its owner to close.
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { ApiApp } from './api/app.ts';
import type { ApiDeps } from './api/deps.ts';
import { processConfig } from './runtime/config.ts';
import { openNexus, type Nexus } from './runtime/nexus.ts';

export interface ServerOptions {
  /** Default config.server.port. */
  port?: number;
  host?: string;
  /** How often the webhook inbox is drained (ms); default config.webhooks.drainIntervalMs. */
  drainIntervalMs?: number;
  /** The opened Nexus this server serves (the caller closes it). */
  nexus: Nexus;
}

export interface RunningServer {
  url: string;
  port: number;
  app: ApiApp;
  deps: ApiDeps;
  nexus: Nexus;
  /** Drains the inbox once now (the timer does this on its own); resolves to the number handled. */
  drainNow(): Promise<number>;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { nexus } = opts;
  const port = opts.port ?? nexus.config.server.port;
  const host = opts.host ?? '127.0.0.1';

  // Drains run one after another: on a timer, and soon after each new delivery in this process.
  // drainNow() waits for the round in flight and then runs one more, so its caller sees every
  // delivery queued before the call processed.
  let chain: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  const drainNow = (): Promise<number> => {
    waiting++;
    const run = chain.then(async () => {
      waiting--;
      return (await nexus.inbox.drain(nexus.handlers)).done;
    });
    chain = run.catch((err) => console.error('[server] inbox drain failed:', (err as Error).message));
    return run;
  };
  let closed = false;
  const kick = () => { if (!closed && waiting === 0) void drainNow().catch(() => undefined); };
  const interval = opts.drainIntervalMs ?? nexus.config.webhooks.drainIntervalMs;
  const timer = setInterval(kick, interval);
  timer.unref();
  nexus.onDelivery(() => setImmediate(kick));
  const { app, deps } = nexus;

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    app,
    deps,
    nexus,
    drainNow,
    async close() {
      closed = true;
      clearInterval(timer);
      await chain;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}

// `node --import tsx functions/server.ts` runs the server on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const nexus = await openNexus(processConfig());
  const s = await startServer({ nexus });
  console.log(`[server] Nexus API on ${s.url}`);
  const stop = () => void s.close().then(() => nexus.close()).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

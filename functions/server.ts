// The local API server: the Hono app on @hono/node-server, plus the background work that Azure
// Functions would run on timers (draining the webhook inbox). `close()` stops everything it started.
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createApp, type ApiApp } from './api/app.ts';
import type { ApiDeps } from './api/deps.ts';
import { apiDeps, openWiring, type Wiring } from './api/wiring.ts';

export interface ServerOptions {
  port?: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** How often the webhook inbox is drained (ms). */
  drainIntervalMs?: number;
  /** Replaces the default wiring (storage, catalog, inbox) – for callers that already hold one. */
  wiring?: Wiring;
}

export interface RunningServer {
  url: string;
  port: number;
  app: ApiApp;
  deps: ApiDeps;
  /** Drains the inbox once now (the timer does this on its own); resolves to the number handled. */
  drainNow(): Promise<number>;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  const port = opts.port ?? Number(env.PORT ?? 7070);
  const host = opts.host ?? '127.0.0.1';
  const wiring = opts.wiring ?? (await openWiring(env));

  // Drains run one after another: on a timer, and soon after each new delivery in this process.
  // drainNow() waits for the round in flight and then runs one more, so its caller sees every
  // delivery queued before the call processed.
  let chain: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  const drainNow = (): Promise<number> => {
    waiting++;
    const run = chain.then(async () => {
      waiting--;
      return (await wiring.inbox.drain(wiring.handlers)).done;
    });
    chain = run.catch((err) => console.error('[server] inbox drain failed:', (err as Error).message));
    return run;
  };
  let closed = false;
  const kick = () => { if (!closed && waiting === 0) void drainNow().catch(() => undefined); };
  const interval = opts.drainIntervalMs ?? Number(env.NEXUS_INBOX_DRAIN_MS ?? 2000);
  const timer = setInterval(kick, interval);
  timer.unref();

  const base = await apiDeps(wiring, env);
  const deps: ApiDeps = {
    ...base,
    inbox: {
      enqueue: async (item) => {
        const res = await wiring.inbox.enqueue(item);
        if (!res.duplicate) setImmediate(kick);
        return res;
      },
    },
  };
  const app = createApp(deps);

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    app,
    deps,
    drainNow,
    async close() {
      closed = true;
      clearInterval(timer);
      await chain;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      if (!opts.wiring) await wiring.close();
    },
  };
}

// `node --import tsx functions/server.ts` runs the server on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await startServer();
  console.log(`[server] Nexus API on ${s.url}`);
  const stop = () => void s.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

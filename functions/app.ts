// The one file that registers Azure Functions triggers. Every HTTP route is the same Hono app the
// local server runs; the timers run the same reconcile pass and catalog jobs as `npm run up`.
// Nothing is opened at import: the first invocation in a worker opens storage and the catalog.
import functions, { type HttpFunctionOptions, type StorageQueueFunctionOptions, type TimerFunctionOptions, type Timer } from '@azure/functions';
import { createApp } from './api/app.ts';
import { apiDeps, openWiring, type Wiring } from './api/wiring.ts';
import { toFunctionsHandler } from './platform/functions-http.ts';
import { storageConfig } from './platform/storage-config.ts';
import { reconcileService } from './reconcile/service.ts';
import { parseSchedule } from './reconcile/schedule.ts';
import { reconcileTick } from './reconcile/scheduler.ts';
import { catalogJobs, type Job } from './jobs.ts';
import { INBOX_QUEUE, processQueueMessage } from './catalog/inbox-trigger.ts';

/** The part of @azure/functions' `app` that Nexus uses (tests pass a recorder). */
export interface Registrar {
  http(name: string, options: HttpFunctionOptions): void;
  timer(name: string, options: TimerFunctionOptions): void;
  storageQueue(name: string, options: StorageQueueFunctionOptions): void;
}

interface Worker {
  wiring: Wiring;
  http: ReturnType<typeof toFunctionsHandler>;
  jobs: Job[];
}

/**
 * The timer's period as the host reports it (next minus last occurrence), so a slower
 * NEXUS_RECONCILE_TICK_CRON widens the scheduler's slack to match; undefined when unknown.
 */
export function tickSecondsOf(timer: Pick<Timer, 'scheduleStatus'> | undefined): number | undefined {
  const last = Date.parse(timer?.scheduleStatus?.last ?? '');
  const next = Date.parse(timer?.scheduleStatus?.next ?? '');
  const seconds = (next - last) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/**
 * NCRONTAB schedules (seconds first), each overridable from the app settings. The reconcile timer
 * only ticks (NEXUS_RECONCILE_TICK_CRON, every minute): each tick reconciles the stacks whose own
 * interval has passed (NEXUS_RECONCILE_INTERVAL_MINUTES and NEXUS_RECONCILE_SCHEDULE's
 * `stack:x=5,domain:y=30`, see reconcile/schedule.ts), as the local server's timer does.
 */
export function schedules(env: NodeJS.ProcessEnv = process.env) {
  return {
    reconcile: env.NEXUS_RECONCILE_TICK_CRON || '0 * * * * *',
    resourceGraph: env.NEXUS_RESOURCE_GRAPH_SCHEDULE || '0 */5 * * * *',
    pulumiState: env.NEXUS_PULUMI_STATE_SCHEDULE || '30 * * * * *',
    inbox: env.NEXUS_INBOX_SCHEDULE || '*/15 * * * * *',
  };
}

export function registerFunctions(app: Registrar, env: NodeJS.ProcessEnv = process.env): void {
  let worker: Promise<Worker> | undefined;
  const open = (): Promise<Worker> => {
    worker ??= (async () => {
      const wiring = await openWiring(env);
      const deps = await apiDeps({ ...wiring, extra: { ...wiring.extra, reconcile: await reconcileService(env) } }, env);
      return { wiring, http: toFunctionsHandler(createApp(deps)), jobs: await catalogJobs(wiring.catalog, storageConfig(env), env) };
    })();
    worker.catch(() => { worker = undefined; });
    return worker;
  };
  const job = (name: string) => async () => {
    const w = await open();
    const j = w.jobs.find((x) => x.name === name);
    if (j) await j.run();
  };
  const at = schedules(env);
  // A schedule mistake (e.g. an NCRONTAB string in NEXUS_RECONCILE_SCHEDULE) stops the app here,
  // with the variable named, rather than failing every tick.
  parseSchedule(env.NEXUS_RECONCILE_SCHEDULE);

  // Hono routes the request; Functions only hands it over (the host's route prefix is empty).
  app.http('api', {
    route: '{*path}', authLevel: 'anonymous',
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
    handler: async (req) => (await open()).http(req),
  });
  app.timer('reconcile', {
    schedule: at.reconcile,
    handler: async (timer: Timer) => { await reconcileTick(env, undefined, { tickSeconds: tickSecondsOf(timer) }); },
  });
  app.timer('resource-graph-poll', { schedule: at.resourceGraph, handler: job('resource-graph-poll') });
  app.timer('pulumi-state-ingestion', { schedule: at.pulumiState, handler: job('pulumi-state-ingestion') });
  // Webhook deliveries, one invocation per message of the inbox's queue (the Functions storage
  // account, the same as NEXUS_STORAGE_ACCOUNT); the timer re-sends what an enqueue cut short and
  // expires old deliveries.
  app.storageQueue('inbox', {
    queueName: INBOX_QUEUE, connection: 'AzureWebJobsStorage',
    handler: async (message, context) => { const { wiring } = await open(); await processQueueMessage(wiring.inbox, wiring.handlers, message, context.triggerMetadata); },
  });
  app.timer('inbox-maintenance', {
    schedule: at.inbox,
    handler: async () => { const { wiring } = await open(); await wiring.inbox.maintain(Object.keys(wiring.handlers)); },
  });
}

// Registered only inside the Functions host; importing this file elsewhere registers nothing.
if (process.env.FUNCTIONS_WORKER_RUNTIME) registerFunctions(functions.app);

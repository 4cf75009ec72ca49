// The one file that registers Azure Functions triggers. Every HTTP route is the same Hono app the
// local server runs; the timers run the same reconcile pass and catalog jobs as `npm run up`.
// The configuration is checked at registration (a mistake stops the app, every variable named);
// the first invocation in a worker opens Nexus (functions/runtime/nexus.ts).
import functions, { type HttpFunctionOptions, type StorageQueueFunctionOptions, type TimerFunctionOptions, type Timer } from '@azure/functions';
import { toFunctionsHandler } from './platform/functions-http.ts';
import { reconcileTick } from './reconcile/scheduler.ts';
import { onFunctionsHost, processConfig, type NexusConfig } from './runtime/config.ts';
import { openNexus, type Nexus, type NexusOverrides } from './runtime/nexus.ts';
import type { Job } from './jobs.ts';
import { INBOX_QUEUE, processQueueMessage } from './catalog/inbox-trigger.ts';

/** The part of @azure/functions' `app` that Nexus uses (tests pass a recorder). */
export interface Registrar {
  http(name: string, options: HttpFunctionOptions): void;
  timer(name: string, options: TimerFunctionOptions): void;
  storageQueue(name: string, options: StorageQueueFunctionOptions): void;
}

interface Worker {
  nexus: Nexus;
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
 * Registers every trigger. Schedules are NCRONTAB (config.schedules). The reconcile timer only ticks
 * (NEXUS_RECONCILE_TICK_CRON, every minute): each tick reconciles the stacks whose own interval has
 * passed (config.reconcile, see reconcile/schedule.ts), as the local server's timer does.
 */
export function registerFunctions(app: Registrar, config: NexusConfig, over: NexusOverrides = {}): void {
  let worker: Promise<Worker> | undefined;
  const open = (): Promise<Worker> => {
    worker ??= (async () => {
      const nexus = await openNexus(config, over);
      return { nexus, http: toFunctionsHandler(nexus.app), jobs: await nexus.jobs() };
    })();
    worker.catch(() => { worker = undefined; });
    return worker;
  };
  const job = (name: string) => async () => {
    const w = await open();
    const j = w.jobs.find((x) => x.name === name);
    if (j) await j.run();
  };
  const at = config.schedules;

  // Hono routes the request; Functions only hands it over (the host's route prefix is empty).
  app.http('api', {
    route: '{*path}', authLevel: 'anonymous',
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
    handler: async (req) => (await open()).http(req),
  });
  app.timer('reconcile', {
    schedule: at.reconcile,
    handler: async (timer: Timer) => {
      const { nexus } = await open();
      // Pushes queued (and not yet run, e.g. after a restart) go first: they are what people wait for.
      await nexus.gitops?.kick();
      await reconcileTick(nexus.reconcile.reconciler, { ...config.reconcile, tickSeconds: tickSecondsOf(timer) });
    },
  });
  app.timer('resource-graph-poll', { schedule: at.resourceGraph, handler: job('resource-graph-poll') });
  app.timer('pulumi-state-ingestion', { schedule: at.pulumiState, handler: job('pulumi-state-ingestion') });
  // Webhook deliveries, one invocation per message of the inbox's queue (the Functions storage
  // account, the same as NEXUS_STORAGE_ACCOUNT); the timer re-sends what an enqueue cut short and
  // expires old deliveries.
  app.storageQueue('inbox', {
    queueName: INBOX_QUEUE, connection: 'AzureWebJobsStorage',
    handler: async (message, context) => { const { nexus } = await open(); await processQueueMessage(nexus.inbox, nexus.handlers, message, context.triggerMetadata); },
  });
  app.timer('inbox-maintenance', {
    schedule: at.inbox,
    handler: async () => { const { nexus } = await open(); await nexus.inbox.maintain(Object.keys(nexus.handlers)); },
  });
}

// Registered only inside the Functions host; importing this file elsewhere registers nothing.
if (onFunctionsHost()) registerFunctions(functions.app, processConfig());

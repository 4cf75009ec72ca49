// One reconciler process for the multi-process tests: reconciles its stacks round after round
// against the shared Azurite, sandbox and Pulumi state, and appends what it does to a JSONL log.
// Each round wants a different desired state, so every run it gets to do is an apply.
import { appendFileSync } from 'node:fs';
import { createLogger } from '../../../../functions/platform/logger.ts';
import { defaultDeps } from '../../../../functions/reconcile/deps.ts';
import { parseGuardrails } from '../../../../functions/reconcile/guardrails.ts';
import { Reconciler } from '../../../../functions/reconcile/loop.ts';
import { mergeStates, smallState } from '../state-fixture.ts';
import { partsFrom } from '../../../helpers/config.ts';

interface ChildConfig {
  stacks: string[];
  /** Completed runs per stack before the child stops. */
  runsPerStack: number;
  log: string;
  tenantRoot: string;
}

const cfg = JSON.parse(process.env.RC_CHILD!) as ChildConfig;
const log = (ev: Record<string, unknown>) => appendFileSync(cfg.log, JSON.stringify({ ...ev, pid: process.pid, t: Date.now() }) + '\n');
let round = 0;
const state = () => mergeStates(cfg.stacks.map((name) => smallState({ tenantRoot: cfg.tenantRoot, name, assignments: 1, version: `${process.pid}-${round}` })));

const deps = await defaultDeps(partsFrom(process.env), {
  compile: async () => state(),
  guardrails: async () => parseGuardrails({ scopes: { allow: { managementGroups: ['rc*'] } } }),
  logger: createLogger({ level: 'silent' }),
});
const real = deps.openStack;
deps.openStack = async (o) => {
  // The loop opens the engine only while it holds the stack's lease.
  log({ ev: 'lease-held', stack: o.stack });
  const engine = await real(o);
  return {
    ...engine,
    preview: () => engine.preview(),
    previewRefresh: () => engine.previewRefresh(),
    refresh: () => engine.refresh(),
    exportState: () => engine.exportState(),
    cancel: () => engine.cancel(),
    close: () => engine.close?.(),
    get lastTimings() { return engine.lastTimings; },
    up: async (opts) => {
      log({ ev: 'apply-start', stack: o.stack });
      try {
        return await engine.up(opts);
      } finally {
        log({ ev: 'apply-end', stack: o.stack });
      }
    },
  };
};
const reconciler = new Reconciler(deps);
log({ ev: 'ready', holderId: deps.holderId });

const done = new Map(cfg.stacks.map((s) => [s, 0]));
while ([...done.values()].some((n) => n < cfg.runsPerStack)) {
  round++;
  for (const stack of cfg.stacks) {
    if (done.get(stack)! >= cfg.runsPerStack) continue;
    const r = await reconciler.reconcile({ stack, trigger: 'timer' });
    if (r.status === 'done') {
      done.set(stack, done.get(stack)! + 1);
      log({ ev: 'run', stack, id: r.run.id, decision: r.run.decision, reasons: r.run.reasons, error: r.run.error?.slice(0, 300) });
    } else {
      log({ ev: 'skipped', stack, holder: r.holder });
      await new Promise((res) => setTimeout(res, 300 + Math.random() * 500));
    }
  }
}
log({ ev: 'finished' });
process.exit(0);

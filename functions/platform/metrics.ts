// Prometheus metrics (prom-client) on Nexus's own registry. The API mounts `metricsHandler` at
// /metrics; gauges that live in storage (pending approvals, kill switch) are read at scrape time
// through collectors the reconciler registers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'nexus_' });

export const runsTotal = new Counter({
  name: 'nexus_reconcile_runs_total', help: 'Reconcile runs by decision', labelNames: ['decision', 'trigger'] as const, registers: [registry],
});

export const gateBlocksTotal = new Counter({
  name: 'nexus_reconcile_gate_blocks_total', help: 'Runs a gate did not let through, by gate and reason', labelNames: ['gate', 'reason'] as const, registers: [registry],
});

export const leaseHolderChangesTotal = new Counter({
  name: 'nexus_reconcile_lease_holder_changes_total', help: 'Times a stack lease was taken by a different holder than last time', labelNames: ['stack'] as const, registers: [registry],
});

export const applyDurationSeconds = new Histogram({
  name: 'nexus_reconcile_apply_duration_seconds', help: 'Duration of applies (pulumi up)', labelNames: ['stack', 'outcome'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800], registers: [registry],
});

export const runDurationSeconds = new Histogram({
  name: 'nexus_reconcile_run_duration_seconds', help: 'Duration of whole reconcile runs', labelNames: ['decision'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800], registers: [registry],
});

type GaugeReader = () => Promise<number>;
const readers: { killSwitch?: GaugeReader; pendingApprovals?: GaugeReader } = {};

/** Lets the reconciler say where the storage-backed gauges are read from. */
export function setGaugeReaders(r: typeof readers): void {
  Object.assign(readers, r);
}

export const killSwitchGauge = new Gauge({
  name: 'nexus_kill_switch_on', help: '1 while the kill switch is on', registers: [registry],
  async collect() {
    if (readers.killSwitch) this.set(await readers.killSwitch().catch(() => NaN));
  },
});

export const pendingApprovalsGauge = new Gauge({
  name: 'nexus_reconcile_pending_approvals', help: 'Runs waiting for approval', registers: [registry],
  async collect() {
    if (readers.pendingApprovals) this.set(await readers.pendingApprovals().catch(() => NaN));
  },
});

/** A fetch-style handler (Hono: `app.get('/metrics', (c) => metricsHandler(c.req.raw))`). */
export async function metricsHandler(_req?: Request): Promise<Response> {
  return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } });
}

// Prometheus metrics (prom-client) on a registry of Nexus's own, one per composition root (so two
// instances in one process, as in tests, never count into each other). The API serves it at
// /metrics; gauges that live in storage (pending approvals, kill switch) are read at scrape time
// through the readers the reconciler sets.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type GaugeReader = () => Promise<number>;
export interface GaugeReaders { killSwitch?: GaugeReader; pendingApprovals?: GaugeReader }

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800];

export class Metrics {
  readonly registry = new Registry();
  private readonly readers: GaugeReaders = {};

  readonly runsTotal = new Counter({
    name: 'nexus_reconcile_runs_total', help: 'Reconcile runs by decision', labelNames: ['decision', 'trigger'] as const, registers: [this.registry],
  });

  readonly gateBlocksTotal = new Counter({
    name: 'nexus_reconcile_gate_blocks_total', help: 'Runs a gate did not let through, by gate and reason', labelNames: ['gate', 'reason'] as const, registers: [this.registry],
  });

  readonly leaseHolderChangesTotal = new Counter({
    name: 'nexus_reconcile_lease_holder_changes_total', help: 'Times a stack lease was taken by a different holder than last time', labelNames: ['stack'] as const, registers: [this.registry],
  });

  readonly applyDurationSeconds = new Histogram({
    name: 'nexus_reconcile_apply_duration_seconds', help: 'Duration of applies (pulumi up)', labelNames: ['stack', 'outcome'] as const,
    buckets: DURATION_BUCKETS, registers: [this.registry],
  });

  readonly runDurationSeconds = new Histogram({
    name: 'nexus_reconcile_run_duration_seconds', help: 'Duration of whole reconcile runs', labelNames: ['decision'] as const,
    buckets: DURATION_BUCKETS, registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    const readers = this.readers;
    new Gauge({
      name: 'nexus_kill_switch_on', help: '1 while the kill switch is on', registers: [this.registry],
      async collect() {
        if (readers.killSwitch) this.set(await readers.killSwitch().catch(() => NaN));
      },
    });
    new Gauge({
      name: 'nexus_reconcile_pending_approvals', help: 'Runs waiting for approval', registers: [this.registry],
      async collect() {
        if (readers.pendingApprovals) this.set(await readers.pendingApprovals().catch(() => NaN));
      },
    });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'nexus_' });
  }

  /** Lets the reconciler say where the storage-backed gauges are read from. */
  setGaugeReaders(r: GaugeReaders): void {
    Object.assign(this.readers, r);
  }

  /** A fetch-style handler (Hono: `app.get('/metrics', (c) => metrics.handler())`). */
  async handler(): Promise<Response> {
    return new Response(await this.registry.metrics(), { headers: { 'content-type': this.registry.contentType } });
  }
}

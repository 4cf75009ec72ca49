// Drift reports and baselines in blob storage. A report is kept per run (`<stack>/<runId>.json`)
// and as the stack's latest (`<stack>/latest.json`); the baseline of a stack is the live body of
// each resource right after Nexus's last successful apply (`drift-baselines/<stack>.json`).
import { BlobStore } from '../platform/blobs.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import type { DriftReport } from './model.ts';

/** Live ARM bodies by lower-cased resource id. */
export type Baseline = Record<string, unknown>;

const REPORTS = 'drift';
const BASELINES = 'drift-baselines';

export class DriftStore {
  private constructor(private readonly reports: BlobStore, private readonly baselines: BlobStore) {}

  static async open(cfg: StorageConfig): Promise<DriftStore> {
    const [reports, baselines] = await Promise.all([BlobStore.open(REPORTS, cfg), BlobStore.open(BASELINES, cfg)]);
    return new DriftStore(reports, baselines);
  }

  /** Stores the report under its run (when it has one) and as the stack's latest. */
  async save(report: DriftReport): Promise<void> {
    if (report.runId) await this.reports.putJson(`${report.stack}/${report.runId}.json`, report);
    await this.reports.putJson(`${report.stack}/latest.json`, report);
  }

  /** The stack's latest report, or the one made in `runId`. */
  async get(stack: string, runId?: string): Promise<DriftReport | undefined> {
    return this.reports.getJson<DriftReport>(`${stack}/${runId ?? 'latest'}.json`);
  }

  async baseline(stack: string): Promise<Baseline> {
    return (await this.baselines.getJson<Baseline>(`${stack}.json`)) ?? Object.create(null);
  }

  async saveBaseline(stack: string, baseline: Baseline): Promise<void> {
    await this.baselines.putJson(`${stack}.json`, baseline);
  }
}

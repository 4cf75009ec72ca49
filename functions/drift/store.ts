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
/** Reports kept for flapping. */
const RECENT = 6;

export class DriftStore {
  private constructor(private readonly reports: BlobStore, private readonly baselines: BlobStore) {}

  static async open(cfg: StorageConfig): Promise<DriftStore> {
    const [reports, baselines] = await Promise.all([BlobStore.open(REPORTS, cfg), BlobStore.open(BASELINES, cfg)]);
    return new DriftStore(reports, baselines);
  }

  /**
   * Stores the report under its run (when it has one), as the stack's latest, and in the stack's
   * recent list (the last RECENT reports, drifted properties only: what flapping is judged on).
   */
  async save(report: DriftReport, opts: { history?: boolean } = {}): Promise<void> {
    const history = opts.history ?? true;
    const recent = history ? await this.recent(report.stack, RECENT - 1) : [];
    const slim: DriftReport = { ...report, suppressed: [], unavailable: [], items: report.items
      .filter((i) => i.kind === 'configuration' || i.kind === 'flapping')
      .map((i) => ({ ...i, changes: [], diffText: undefined, properties: i.properties.map((p) => ({ path: p.path, desired: undefined, live: p.live })) })) };
    await Promise.all([
      report.runId ? this.reports.putJson(`${report.stack}/${report.runId}.json`, report) : undefined,
      this.reports.putJson(`${report.stack}/latest.json`, report),
      history ? this.reports.putJson(`${report.stack}/recent.json`, [slim, ...recent]) : undefined,
    ]);
  }

  /** The stack's last reports, newest first, drifted properties only. */
  async recent(stack: string, n = RECENT): Promise<DriftReport[]> {
    return ((await this.reports.getJson<DriftReport[]>(`${stack}/recent.json`)) ?? []).slice(0, n);
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

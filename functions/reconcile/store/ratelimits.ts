// Rate-limit counters shared by every reconciler instance: one row per change kind in the
// `ratelimits` table, consumed in one ETag-checked batch so concurrent instances count right;
// a cooldown once a limit is hit; and the Admin's time-boxed emergency override.
import type { StorageConfig } from '../../platform/storage-config.ts';
import { ConcurrencyError, EntityExistsError } from '../../platform/errors.ts';
import { Table, type BatchOp, type Row } from '../../platform/tables.ts';
import { retryOnConflict } from '../../platform/conflict-retry.ts';
import type { Guardrails } from '../guardrails.ts';
import { checkRates, currentCount } from '../gates/rate-limits.ts';
import type { RateCounter, RateOverride } from '../gates/types.ts';
import { CHANGE_KINDS, type ChangeKind } from '../scope.ts';

const COUNTERS = 'counters';
const OVERRIDE = 'override';

type RateRow = RateCounter | RateOverride;

export class RateLimitExceeded extends Error {
  /** `counters`: what the refused consumption saw, so the rate-limits gate can judge them. */
  constructor(readonly kinds: ChangeKind[], message: string, readonly counters: Partial<Record<ChangeKind, RateCounter>> = {}) {
    super(message);
    this.name = 'RateLimitExceeded';
  }
}

export class OverrideRequestError extends Error {
  readonly status = 400;
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'OverrideRequestError';
  }
}

export class RateLimitStore {
  private constructor(private readonly table: Table<RateRow>) {}

  /** `table` other than `ratelimits` only for tests that must not share counters. */
  static async open(cfg: StorageConfig, table = 'ratelimits'): Promise<RateLimitStore> {
    return new RateLimitStore(await Table.open<RateRow>(table, cfg));
  }

  private async rows(): Promise<Map<ChangeKind, Row<RateCounter>>> {
    const out = new Map<ChangeKind, Row<RateCounter>>();
    for await (const r of this.table.query({ partitionKey: COUNTERS })) {
      if ((CHANGE_KINDS as readonly string[]).includes(r.rowKey)) out.set(r.rowKey as ChangeKind, r as Row<RateCounter>);
    }
    return out;
  }

  /** What the rate-limit gate reads: counters and any override. */
  async snapshot(): Promise<{ counters: Partial<Record<ChangeKind, RateCounter>>; override?: RateOverride }> {
    const [rows, ov] = await Promise.all([this.rows(), this.table.get(OVERRIDE, 'global')]);
    const counters: Partial<Record<ChangeKind, RateCounter>> = {};
    for (const [k, r] of rows) counters[k] = { windowStart: r.windowStart, count: r.count, cooldownUntil: r.cooldownUntil };
    const override = ov && 'until' in ov ? { until: ov.until, reason: ov.reason, by: ov.by } : undefined;
    return { counters, override };
  }

  /**
   * Counts the planned changes right before an apply, all kinds in one conditional batch: either
   * every counter moves or none does. Throws RateLimitExceeded when another instance used the room
   * meanwhile (unless `overridden`), and starts the cooldown of the kinds that hit their limit.
   */
  async consume(planned: Partial<Record<ChangeKind, number>>, cfg: Guardrails['rateLimits'], now: Date, overridden: boolean): Promise<void> {
    const kinds = (Object.keys(planned) as ChangeKind[]).filter((k) => (planned[k] ?? 0) > 0);
    if (kinds.length === 0) return;
    // A conflict means another instance committed, so the counters move on every retry; under
    // heavy contention a consumer may need many rounds (each one re-checks the limit), so the
    // pauses grow slower and further than the default.
    await retryOnConflict(async () => {
      const rows = await this.rows();
      const counters = Object.fromEntries([...rows].map(([k, r]) => [k, r])) as Partial<Record<ChangeKind, RateCounter>>;
      const hits = checkRates(planned, counters, cfg, now).filter((c) => c.code);
      if (hits.length > 0 && !overridden) {
        await this.startCooldown(hits.map((h) => h.kind), cfg, now);
        const seen = Object.fromEntries([...rows].map(([k, r]) => [k, { windowStart: r.windowStart, count: r.count, cooldownUntil: r.cooldownUntil }]));
        throw new RateLimitExceeded(hits.map((h) => h.kind), hits.map((h) => `${h.kind}: ${h.used} used + ${h.planned} planned > ${h.max}`).join('; '), seen);
      }
      const ops: BatchOp<RateRow>[] = kinds.map((k) => {
        const cur = rows.get(k);
        const used = currentCount(cur, now, cfg.intervalMinutes);
        const windowEnded = !cur || now.getTime() - Date.parse(cur.windowStart) >= cfg.intervalMinutes * 60_000;
        const value: RateCounter = {
          windowStart: windowEnded ? now.toISOString() : cur!.windowStart,
          count: used + planned[k]!,
          ...(cur?.cooldownUntil ? { cooldownUntil: cur.cooldownUntil } : {}),
        };
        return cur ? { op: 'replace', rowKey: k, value, etag: cur.etag } : { op: 'insert', rowKey: k, value };
      });
      await this.table.batch(COUNTERS, ops);
    }, {
      maxAttempts: 200,
      isConflict: (err) => err instanceof ConcurrencyError || err instanceof EntityExistsError,
      backoffMs: (attempt) => Math.random() * Math.min(25 * attempt, 500),
    });
  }

  /** Starts (or extends) the cooldown of kinds that hit their limit. */
  async startCooldown(kinds: ChangeKind[], cfg: Guardrails['rateLimits'], now: Date): Promise<string> {
    const until = new Date(now.getTime() + cfg.cooldownMinutes * 60_000).toISOString();
    for (const k of kinds) {
      await this.table.update(COUNTERS, k, (cur) => {
        const c = cur as RateCounter | undefined;
        if (c?.cooldownUntil && c.cooldownUntil >= until) return undefined;
        return { windowStart: c?.windowStart ?? now.toISOString(), count: c?.count ?? 0, cooldownUntil: until };
      });
    }
    return until;
  }

  /** The Admin's emergency override, time-boxed by the guardrails' maxOverrideMinutes. */
  async setOverride(req: { minutes: number; reason: string; by: string }, cfg: Guardrails['rateLimits'], now = new Date()): Promise<RateOverride> {
    if (!Number.isFinite(req.minutes) || req.minutes <= 0 || req.minutes > cfg.maxOverrideMinutes) {
      throw new OverrideRequestError('minutes', `minutes must be between 1 and ${cfg.maxOverrideMinutes} (the guardrails' maxOverrideMinutes), got ${req.minutes}`);
    }
    if (!req.reason?.trim()) throw new OverrideRequestError('reason', 'an override needs a reason');
    const ov: RateOverride = { until: new Date(now.getTime() + req.minutes * 60_000).toISOString(), reason: req.reason.trim(), by: req.by };
    await this.table.upsert(OVERRIDE, 'global', ov);
    return ov;
  }

  async clearOverride(): Promise<boolean> {
    return this.table.delete(OVERRIDE, 'global');
  }
}

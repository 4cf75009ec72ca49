// Gate 4: changes per kind per interval across runs (counters live in the `ratelimits` table),
// with a cooldown once a limit is hit. An Admin's time-boxed override lifts it.
import type { Guardrails } from '../guardrails.ts';
import type { ChangeKind } from '../scope.ts';
import { countByKind } from './blast-radius.ts';
import type { Gate, RateCounter } from './types.ts';

export interface RateCheck {
  kind: ChangeKind;
  planned: number;
  used: number;
  max: number;
  cooldownUntil?: string;
  code?: 'RATE_LIMIT' | 'RATE_LIMIT_COOLDOWN';
}

/** The counter as it stands at `now`: a window that has ended counts from zero. */
export function currentCount(c: RateCounter | undefined, now: Date, intervalMinutes: number): number {
  if (!c) return 0;
  return now.getTime() - Date.parse(c.windowStart) >= intervalMinutes * 60_000 ? 0 : c.count;
}

/** Checks planned changes against the counters; pure, so both the gate and the store use it. */
export function checkRates(
  planned: Partial<Record<ChangeKind, number>>,
  counters: Partial<Record<ChangeKind, RateCounter>>,
  cfg: Guardrails['rateLimits'],
  now: Date,
): RateCheck[] {
  const out: RateCheck[] = [];
  for (const [k, n] of Object.entries(planned) as [ChangeKind, number][]) {
    const max = cfg.maxChangesPerInterval[k];
    if (max === undefined || n === 0) continue;
    const c = counters[k];
    const used = currentCount(c, now, cfg.intervalMinutes);
    const check: RateCheck = { kind: k, planned: n, used, max };
    if (c?.cooldownUntil && Date.parse(c.cooldownUntil) > now.getTime()) {
      check.code = 'RATE_LIMIT_COOLDOWN';
      check.cooldownUntil = c.cooldownUntil;
    } else if (used + n > max) {
      check.code = 'RATE_LIMIT';
    }
    out.push(check);
  }
  return out;
}

export const rateLimitsGate: Gate = (ctx, cs) => {
  const checks = checkRates(countByKind(cs.changes), ctx.rateLimits.counters, ctx.guardrails.rateLimits, ctx.now);
  const hits = checks.filter((c) => c.code);
  const ov = ctx.rateLimits.override;
  const overridden = ov && Date.parse(ov.until) > ctx.now.getTime();
  if (hits.length === 0) {
    return { gate: 'rate-limits', pass: true, reason: 'OK', details: { message: 'within rate limits', checks } };
  }
  if (overridden) {
    return {
      gate: 'rate-limits', pass: true, reason: 'RATE_LIMIT_OVERRIDDEN',
      details: { message: `rate limits overridden by ${ov!.by} until ${ov!.until}: ${ov!.reason}`, checks, override: ov },
    };
  }
  const reason = hits.some((h) => h.code === 'RATE_LIMIT_COOLDOWN') ? 'RATE_LIMIT_COOLDOWN' : 'RATE_LIMIT';
  return {
    gate: 'rate-limits', pass: false, reason,
    details: {
      message: hits.map((h) => h.code === 'RATE_LIMIT_COOLDOWN'
        ? `${h.kind} in cooldown until ${h.cooldownUntil}`
        : `${h.kind}: ${h.used} used + ${h.planned} planned > ${h.max} per ${ctx.guardrails.rateLimits.intervalMinutes} min`).join('; '),
      checks,
    },
  };
};

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rateLimitsGate } from '../../../../functions/reconcile/gates/rate-limits.ts';
import { changeSet, context, policyAssignment } from '../fixtures.ts';

const guardrails = { rateLimits: { intervalMinutes: 60, cooldownMinutes: 30, maxChangesPerInterval: { policyAssignments: 5 } } };
const cs = changeSet(['a', 'b'].map((n) => policyAssignment('alz', n)));
const now = new Date('2026-01-01T12:00:00Z');

test('passes while the interval has room', () => {
  const r = rateLimitsGate(context({ guardrails, now, rateLimits: { counters: { policyAssignments: { windowStart: '2026-01-01T11:30:00Z', count: 3 } } } }), cs);
  assert.is(r.pass, true);
});

test('blocks when the planned changes would pass the limit', () => {
  const r = rateLimitsGate(context({ guardrails, now, rateLimits: { counters: { policyAssignments: { windowStart: '2026-01-01T11:30:00Z', count: 4 } } } }), cs);
  assert.is(r.pass, false);
  assert.is(r.reason, 'RATE_LIMIT');
  assert.match(r.details.message, /4 used \+ 2 planned > 5/);
});

test('a window that ended counts from zero', () => {
  const r = rateLimitsGate(context({ guardrails, now, rateLimits: { counters: { policyAssignments: { windowStart: '2026-01-01T10:59:00Z', count: 5 } } } }), cs);
  assert.is(r.pass, true);
});

test('blocks during a cooldown even in a fresh window', () => {
  const r = rateLimitsGate(context({ guardrails, now, rateLimits: { counters: { policyAssignments: { windowStart: '2026-01-01T10:00:00Z', count: 5, cooldownUntil: '2026-01-01T12:10:00Z' } } } }), cs);
  assert.is(r.reason, 'RATE_LIMIT_COOLDOWN');
});

test('an unexpired Admin override lets it through and says so; an expired one does not', () => {
  const counters = { policyAssignments: { windowStart: '2026-01-01T11:30:00Z', count: 5 } };
  const override = { until: '2026-01-01T13:00:00Z', reason: 'incident fix', by: 'admin@contoso.com' };
  const r = rateLimitsGate(context({ guardrails, now, rateLimits: { counters, override } }), cs);
  assert.is(r.pass, true);
  assert.is(r.reason, 'RATE_LIMIT_OVERRIDDEN');
  const expired = rateLimitsGate(context({ guardrails, now, rateLimits: { counters, override: { ...override, until: '2026-01-01T11:00:00Z' } } }), cs);
  assert.is(expired.reason, 'RATE_LIMIT');
});

test('kinds without a limit are not counted', () => {
  const r = rateLimitsGate(context({ now, rateLimits: { counters: {} } }), cs);
  assert.is(r.pass, true);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gateBlocksTotal, metricsHandler, runsTotal, setGaugeReaders } from '../../../functions/platform/metrics.ts';

test('the /metrics handler serves the reconcile metrics in the Prometheus text format', async () => {
  runsTotal.inc({ decision: 'blocked', trigger: 'timer' });
  gateBlocksTotal.inc({ gate: 'kill-switch', reason: 'KILL_SWITCH' });
  setGaugeReaders({ killSwitch: async () => 1, pendingApprovals: async () => 3 });
  const res = await metricsHandler();
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(text, /nexus_reconcile_runs_total\{decision="blocked",trigger="timer"\} \d+/);
  assert.match(text, /nexus_reconcile_gate_blocks_total\{gate="kill-switch",reason="KILL_SWITCH"\} \d+/);
  assert.match(text, /nexus_kill_switch_on 1/);
  assert.match(text, /nexus_reconcile_pending_approvals 3/);
  for (const m of ['nexus_reconcile_lease_holder_changes_total', 'nexus_reconcile_apply_duration_seconds']) assert.match(text, new RegExp(`# TYPE ${m}`));
});

test.run();

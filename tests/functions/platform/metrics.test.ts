import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Metrics } from '../../../functions/platform/metrics.ts';

test('the /metrics handler serves the reconcile metrics in the Prometheus text format', async () => {
  const m = new Metrics();
  m.runsTotal.inc({ decision: 'blocked', trigger: 'timer' });
  m.gateBlocksTotal.inc({ gate: 'kill-switch', reason: 'KILL_SWITCH' });
  m.setGaugeReaders({ killSwitch: async () => 1, pendingApprovals: async () => 3 });
  const res = await m.handler();
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(text, /nexus_reconcile_runs_total\{decision="blocked",trigger="timer"\} 1\n/);
  assert.match(text, /nexus_reconcile_gate_blocks_total\{gate="kill-switch",reason="KILL_SWITCH"\} 1\n/);
  assert.match(text, /nexus_kill_switch_on 1/);
  assert.match(text, /nexus_reconcile_pending_approvals 3/);
  for (const m of ['nexus_reconcile_lease_holder_changes_total', 'nexus_reconcile_apply_duration_seconds', 'nexus_process_cpu_seconds_total']) assert.match(text, new RegExp(`# TYPE ${m}`));
});

test('two instances in one process count apart (no shared registry)', async () => {
  const a = new Metrics({ processMetrics: false });
  const b = new Metrics({ processMetrics: false });
  a.runsTotal.inc({ decision: 'applied', trigger: 'push' });
  a.runsTotal.inc({ decision: 'applied', trigger: 'push' });
  assert.match(await (await a.handler()).text(), /nexus_reconcile_runs_total\{decision="applied",trigger="push"\} 2\n/);
  assert.not.match(await (await b.handler()).text(), /nexus_reconcile_runs_total\{/);
});

test.run();

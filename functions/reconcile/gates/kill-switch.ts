// Gate 1: the kill switch refuses every apply while it is on (previews still run).
import type { Gate } from './types.ts';

export const killSwitchGate: Gate = (ctx) => {
  const ks = ctx.killSwitch;
  if (!ks.on) return { gate: 'kill-switch', pass: true, reason: 'OK', details: { message: 'kill switch is off' } };
  const who = ks.source === 'env' ? 'NEXUS_KILL_SWITCH=1 in the environment' : `${ks.by ?? 'an Admin'}${ks.reason ? ` (${ks.reason})` : ''}`;
  return {
    gate: 'kill-switch', pass: false, reason: 'KILL_SWITCH',
    details: { message: `kill switch is on: ${who}`, source: ks.source, by: ks.by, since: ks.at, why: ks.reason },
  };
};

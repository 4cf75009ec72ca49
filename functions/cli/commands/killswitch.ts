// `nexus killswitch on|off --reason TEXT` (Admin) and `nexus killswitch` (status). While it is on,
// previews and drift detection go on and every apply is refused with KILL_SWITCH.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { UserError } from '../errors.ts';
import { cliPrincipal, guarded } from './reconcile.ts';
import { authorize } from '../../reconcile/service.ts';
import type { KillSwitchState } from '../../reconcile/model.ts';

function describe(s: KillSwitchState): string {
  if (!s.on) return `kill switch: off${s.by ? ` (last changed by ${s.by} at ${s.at}${s.reason ? `: ${s.reason}` : ''})` : ''}`;
  if (s.source === 'env') return 'kill switch: ON (NEXUS_KILL_SWITCH=1 in the environment)';
  return `kill switch: ON since ${s.at} by ${s.by}: ${s.reason}`;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('killswitch')
    .description('show, or turn on/off, the kill switch that refuses every apply (Admin)')
    .argument('[state]', 'on, off or status', 'status')
    .option('--reason <text>', 'why (required for on and off; recorded in the audit)')
    .option('--json', 'print JSON: {"on","source","by","reason","at"}')
    .action(async (state: string, opts: { reason?: string; json?: boolean }) => {
      if (!['on', 'off', 'status'].includes(state)) throw new UserError(`state: "${state}" is not on, off or status`);
      const principal = await cliPrincipal(ctx.config());
      const svc = await guarded(() => ctx.reconcile());
      let result: KillSwitchState;
      if (state === 'status') {
        await guarded(async () => authorize(principal, 'read'));
        result = await guarded(() => svc.killSwitch());
      } else {
        if (!opts.reason?.trim()) throw new UserError(`--reason: turning the kill switch ${state} needs a reason`);
        result = await guarded(() => svc.setKillSwitch(principal, state === 'on', opts.reason!));
      }
      process.stdout.write((opts.json ? JSON.stringify(result) : describe(result)) + '\n');
    });
}

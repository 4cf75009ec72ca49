// `nexus approvals`, `nexus approve RUN`, `nexus reject RUN --reason TEXT`: the two-person rule
// from the command line. An approval that completes a request reconciles the stack again in this
// process; the new preview must match the approved one, or the approval is stale.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { UserError } from '../errors.ts';
import { cliPrincipal, describeRun, exitCodeOf, guarded } from './reconcile.ts';
import { authorize } from '../../reconcile/service.ts';
import type { ApprovalRecord } from '../../reconcile/gates/types.ts';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'superseded', 'applied'] as const;

function line(a: ApprovalRecord): string {
  const need = a.requirements.map((r) => `${r.approvers}×${r.group}`).join(' + ');
  const votes = a.votes.map((v) => v.by).join(', ') || 'none';
  return `${a.id}  ${a.stack.padEnd(16)} ${a.status.padEnd(10)} needs ${need}; approved by ${votes}; expires ${a.expiresAt}${a.author ? `; author ${a.author}` : ''}`;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('approvals')
    .description('runs waiting for approval (pinned to their preview)')
    .option('--status <status>', `${STATUSES.join(', ')} or all`, 'pending')
    .option('--json', 'print JSON: {"approvals":[...]}')
    .action(async (opts: { status: string; json?: boolean }) => {
      if (opts.status !== 'all' && !(STATUSES as readonly string[]).includes(opts.status)) {
        throw new UserError(`--status: "${opts.status}" is not one of ${STATUSES.join(', ')}, all`);
      }
      const who = await cliPrincipal(ctx.config());
      await guarded(async () => authorize(who, 'read'));
      const svc = await guarded(() => ctx.reconcile());
      const list = await guarded(() => svc.approvals(opts.status === 'all' ? undefined : (opts.status as ApprovalRecord['status'])));
      if (opts.json) process.stdout.write(JSON.stringify({ approvals: list }) + '\n');
      else process.stdout.write(list.length ? list.map(line).join('\n') + '\n' : `no ${opts.status === 'all' ? '' : opts.status + ' '}approvals\n`);
    });

  program
    .command('approve')
    .description('approve a held run (PlatformEngineer or TeamLead in the required group; never the commit author)')
    .argument('<run>', 'the run id waiting for approval')
    .option('--no-apply', 'only record the approval; the next reconcile applies it')
    .option('--json', 'print JSON: {"approval":{...},"run":{...}}')
    .action(async (runId: string, opts: { apply: boolean; json?: boolean }) => {
      const principal = await cliPrincipal(ctx.config());
      const svc = await guarded(() => ctx.reconcile());
      const r = await guarded(() => svc.approve(principal, runId, { reconcile: opts.apply ? 'wait' : 'none' }));
      const run = r.result?.status === 'done' ? r.result.run : undefined;
      if (opts.json) {
        process.stdout.write(JSON.stringify({ approval: r.approval, ...(run ? { run } : {}) }) + '\n');
      } else {
        process.stdout.write(line(r.approval) + '\n');
        if (r.approval.status === 'pending') process.stdout.write('more approvers are needed\n');
        if (run) process.stdout.write(describeRun(run) + '\n');
      }
      if (r.result) process.exitCode = exitCodeOf(r.result);
    });

  program
    .command('reject')
    .description('reject a held run')
    .argument('<run>', 'the run id waiting for approval')
    .requiredOption('--reason <text>', 'why (recorded in the audit)')
    .option('--json', 'print JSON: {"approval":{...}}')
    .action(async (runId: string, opts: { reason: string; json?: boolean }) => {
      const principal = await cliPrincipal(ctx.config());
      const svc = await guarded(() => ctx.reconcile());
      const rec = await guarded(() => svc.reject(principal, runId, opts.reason));
      process.stdout.write((opts.json ? JSON.stringify({ approval: rec }) : line(rec)) + '\n');
    });
}

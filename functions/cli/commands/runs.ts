// `nexus runs [STACK]`: the reconcile history, newest first; `nexus runs --id RUN` shows one run.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { UserError } from '../errors.ts';
import { cliPrincipal, describeRun, guarded } from './reconcile.ts';
import { authorize } from '../../reconcile/service.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('runs')
    .description('list reconcile runs, newest first')
    .argument('[stack]', 'only this stack')
    .option('--id <run>', 'show one run with every gate verdict')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON: {"runs":[{"id","stack","trigger","decision","reasons":[...],...}]}')
    .action(async (stack: string | undefined, opts: { id?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UserError(`--limit: "${opts.limit}" must be a whole number from 1 to 500`);
      const who = await cliPrincipal(ctx.config());
      await guarded(async () => authorize(who, 'read'));
      const svc = await guarded(() => ctx.reconcile());
      if (opts.id) {
        const found = await guarded(() => svc.run(opts.id!));
        if (!found) throw new UserError(`no run '${opts.id}'`);
        const run = { ...found.run, gates: found.detail?.run.gates ?? found.run.gates };
        if (opts.json) process.stdout.write(JSON.stringify({ runs: [run] }) + '\n');
        else process.stdout.write(describeRun(run as never) + '\n');
        return;
      }
      const { runs } = await guarded(() => svc.runs({ stack, limit }));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ runs }) + '\n');
        return;
      }
      if (runs.length === 0) {
        process.stdout.write(stack ? `no runs of ${stack} yet\n` : 'no runs yet\n');
        return;
      }
      for (const r of runs) {
        const when = r.timings.startedAt.replace('T', ' ').slice(0, 19);
        process.stdout.write(`${when}  ${r.id}  ${r.stack.padEnd(16)} ${r.trigger.padEnd(8)} ${(r.decision ?? r.status).padEnd(17)} ${r.reasons.join(', ')}\n`);
      }
    });
}

// `nexus preview [--stack NAME] [--json] [--commit SHA]`: the ChangeSet of each stack of the
// desired state (the landing-zone repository's, when one is configured; else the default tenant)
// against the live tenant (the ARM sandbox locally), through the real engine.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { defaultTenantOptions } from '../../../stacks/compile/index.ts';
import { armConfig } from '../../platform/arm.ts';
import { compileWithAzureBuiltins } from '../../platform/builtin-policies.ts';
import type { ChangeSet, ResourceChange } from '../../../stacks/engine/changeset.ts';
import { EngineConfigError, EngineOperationError, StackBusyError } from '../../../stacks/engine/index.ts';
import { previewTenant } from '../../../stacks/engine/tenant.ts';
import { PulumiCliNotFoundError, PulumiCliVersionError } from '../../../stacks/engine/cli.ts';
import { UserError } from '../errors.ts';
import { openGitOpsSource } from '../../runtime/gitops.ts';

const OPS = ['create', 'update', 'replace', 'delete', 'same'] as const;

function fmt(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? '(none)' : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function describeChange(c: ResourceChange): string[] {
  const lines = [`  ${c.op.padEnd(8)} ${c.armId ?? c.urn}`];
  for (const d of c.diffs) {
    lines.push(d.kind === 'add' ? `             + ${d.path}: ${fmt(d.new)}`
      : d.kind === 'delete' ? `             - ${d.path}: ${fmt(d.old)}`
        : `             ~ ${d.path}: ${fmt(d.old)} -> ${fmt(d.new)}`);
  }
  return lines;
}

export function describeChangeSet(cs: ChangeSet): string {
  const counts = OPS.map((op) => `${cs.summary[op] ?? 0} ${op}`).join(', ');
  const lines = [`${cs.stack}: ${counts}`];
  for (const c of cs.changes) if (c.op !== 'same') lines.push(...describeChange(c));
  for (const d of cs.diagnostics) if (d.severity === 'warning' || d.severity === 'error') lines.push(`  ${d.severity}: ${d.message}`);
  for (const p of cs.policyEvents) lines.push(`  policy ${p.policyName} (${p.enforcementLevel}): ${p.message}`);
  return lines.join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('preview')
    .description('preview every stack of the default tenant against the live tenant (the sandbox locally)')
    .option('--stack <name>', 'only this stack')
    .option('--json', 'print JSON: {"stacks":[{"name","summary","changes":[...]}]}')
    .option('--commit <sha>', 'with a landing-zone repository (NEXUS_LANDING_ZONE_REPO): preview this commit (default: the tracked branch\'s head)')
    .action(async (opts: { stack?: string; json?: boolean; commit?: string }) => {
      const config = ctx.config();
      const arm = armConfig(config.arm);
      const repo = await openGitOpsSource(config, arm);
      if (opts.commit && !repo) throw new UserError('--commit: no landing-zone repository is configured (NEXUS_LANDING_ZONE_REPO); the archetypes folder has only its checkout');
      const state = repo
        ? (await repo.source.compile(opts.commit)).state
        : (await compileWithAzureBuiltins(defaultTenantOptions(config.engine.env), { cfg: arm })).state;
      const names = state.stacks.map((s) => s.name);
      if (opts.stack && !names.includes(opts.stack)) {
        throw new UserError(`--stack: no stack named "${opts.stack}" in the default tenant (stacks: ${names.join(', ')})`);
      }
      const tty = process.stderr.isTTY && !opts.json;
      let current = '';
      const progress = tty
        ? (line: string) => process.stderr.write(`\r\x1b[K${current}: ${line.slice(0, (process.stderr.columns || 100) - current.length - 3)}`)
        : undefined;
      const stacks = opts.stack ? [opts.stack] : names;
      const results = [];
      try {
        for (const name of stacks) {
          current = name;
          progress?.('opening');
          // Against the live tenant: the preview reads every resource first (refresh), so drift
          // made behind Nexus's back shows as the update that would put it back.
          const [r] = await previewTenant(state, { stacks: [name], onProgress: progress, refresh: true, env: config.engine.env });
          if (tty) process.stderr.write('\r\x1b[K');
          results.push(r);
          if (!opts.json) process.stdout.write(describeChangeSet(r.changeSet) + '\n');
        }
      } catch (err) {
        if (tty) process.stderr.write('\r\x1b[K');
        if (err instanceof StackBusyError || err instanceof PulumiCliNotFoundError || err instanceof PulumiCliVersionError
          || err instanceof EngineConfigError || err instanceof EngineOperationError) {
          throw new UserError(err.message);
        }
        throw err;
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({
          stacks: results.map((r) => {
            const { stack: _s, summary, changes, ...rest } = r.changeSet;
            return { name: r.name, summary, changes, ...rest };
          }),
        }) + '\n');
      }
    });
}

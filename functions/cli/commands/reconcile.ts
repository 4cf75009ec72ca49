// `nexus reconcile STACK [--dry-run]`: one reconcile in this process against the configured
// storage and tenant (locally the ones `npm run up` started), taking the same stack lease as any
// running server. Also the CLI's shared access to the reconciler: who is calling, and the service.
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { UserError } from '../errors.ts';
import { PUBLIC_ARM_ENDPOINT } from '../../platform/arm.ts';
import { AuthError, tokenVerifier, type Principal } from '../../platform/identity.ts';
import { StorageError } from '../../platform/errors.ts';
import { parseConnectionString } from '../../../stacks/engine/connection-string.ts';
import { UnknownStackError, type ReconcileResult } from '../../reconcile/loop.ts';
import { ForbiddenError, BadRequestError } from '../../reconcile/service.ts';
import type { NexusConfig, StorageSettings, ArmSettings } from '../../runtime/config.ts';
import type { CliContext } from '../context.ts';
import { ApprovalError } from '../../reconcile/store/approvals.ts';
import { OverrideRequestError } from '../../reconcile/store/ratelimits.ts';
import { GuardrailsError } from '../../reconcile/guardrails.ts';
import type { RunRecord } from '../../reconcile/model.ts';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/**
 * Whether the configured storage is the local emulator on this machine: a connection string that
 * is `UseDevelopmentStorage=true` or whose every endpoint is on loopback. An account name alone
 * (Entra ID) or a connection string with Azure's default endpoints is not.
 */
export function localEmulatorStorage(storage: Partial<StorageSettings>): { local: boolean; why: string } {
  const cs = storage.connectionString?.trim();
  if (!cs) {
    return { local: false, why: storage.account?.trim() ? `the storage is account ${storage.account.trim()}` : 'no storage is configured' };
  }
  const parts = parseConnectionString(cs);
  const endpoints = [...parts].filter(([k]) => k.endsWith('endpoint'));
  const devStorage = /^true$/i.test(parts.get('usedevelopmentstorage') ?? '');
  if (endpoints.length === 0 && !devStorage) return { local: false, why: `the storage connection string names account ${parts.get('accountname') ?? '?'} at Azure's endpoints` };
  for (const [k, v] of endpoints) {
    if (!LOOPBACK.test(hostOf(v))) return { local: false, why: `the storage connection string's ${k} ${v || '(empty)'} is not on loopback` };
  }
  return { local: true, why: 'the local storage emulator' };
}

const hostOf = (url: string) => { try { return new URL(url).hostname; } catch { return ''; } };

/** Whether ARM is the local sandbox on this machine (NEXUS_ARM_ENDPOINT on loopback), not Azure. */
export function localArm(arm: Partial<ArmSettings>): { local: boolean; why: string } {
  const endpoint = arm.endpoint?.trim();
  if (!endpoint || endpoint === PUBLIC_ARM_ENDPOINT) return { local: false, why: 'ARM is Azure (NEXUS_ARM_ENDPOINT is not set)' };
  return LOOPBACK.test(hostOf(endpoint)) ? { local: true, why: 'the local ARM sandbox' } : { local: false, why: `NEXUS_ARM_ENDPOINT ${endpoint} is not on loopback` };
}

/**
 * Who runs the command: the principal of NEXUS_API_TOKEN when set (so roles and approval groups
 * are the person's own), else, on the local system only, its operator (the OS user, as Admin,
 * with no approval groups). "Local" means NEXUS_LOCAL_ISSUER=1 *and* the storage is the emulator
 * on loopback *and* ARM is the sandbox on loopback: .nexus/local.env fills NEXUS_LOCAL_ISSUER for
 * any variable not set, so the flag alone must never make someone an Admin of real storage or a
 * real tenant.
 */
export async function cliPrincipal(config: NexusConfig): Promise<Principal> {
  const token = config.cli.apiToken;
  if (token) {
    try {
      return await tokenVerifier(config.identity)(token);
    } catch (err) {
      throw new UserError(`NEXUS_API_TOKEN: ${err instanceof AuthError ? err.reason : (err as Error).message}`);
    }
  }
  if (config.identity.localIssuer) {
    const notLocal = [localEmulatorStorage(config.storage), localArm(config.arm)].find((c) => !c.local);
    if (notLocal) {
      throw new UserError(`no identity: NEXUS_LOCAL_ISSUER=1 makes the OS user an Admin only against the local storage emulator and ARM sandbox, but ${notLocal.why}; set NEXUS_API_TOKEN (an Entra access token for the Nexus API)`);
    }
    const user = userInfo().username || 'operator';
    return { id: `local:${user}`, name: user, roles: ['Admin'], groups: [] };
  }
  throw new UserError('no identity: set NEXUS_API_TOKEN (an Entra access token for the Nexus API)');
}

/** Errors people can act on become one line; anything else stays an unexpected error. */
export function asUserError(err: unknown): unknown {
  if (err instanceof UserError) return err;
  if (err instanceof ForbiddenError || err instanceof ApprovalError || err instanceof UnknownStackError || err instanceof GuardrailsError) return new UserError(err.message);
  if (err instanceof BadRequestError) return new UserError(`--${err.field}: ${err.message}`);
  if (err instanceof OverrideRequestError) return new UserError(`--${err.field}: ${err.message}`);
  if (err instanceof StorageError) return new UserError(`storage: ${err.message}`);
  return err;
}

export async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw asUserError(err);
  }
}

const secs = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);

export function describeRun(run: Pick<RunRecord, 'id' | 'stack' | 'decision' | 'reasons' | 'counts' | 'timings' | 'error'> & { gates: { gate: string; pass: boolean; reason: string; message?: string; details?: { message: string } }[] }): string {
  const c = run.counts;
  const lines = [
    `${run.stack}: ${run.decision ?? 'running'}${run.reasons.length ? ` (${run.reasons.join(', ')})` : ''} — ` +
      `${c.create} create, ${c.update} update, ${c.replace} replace, ${c.delete} delete, ${c.same} same; ` +
      `${secs(run.timings.totalMs)} (engine ${secs(run.timings.engineMs)}); run ${run.id}`,
  ];
  for (const g of run.gates) lines.push(`  ${g.pass ? 'pass' : 'FAIL'} ${g.gate.padEnd(20)} ${g.reason.padEnd(28)} ${g.message ?? g.details?.message ?? ''}`);
  if (run.error) lines.push(`  error: ${run.error.split('\n')[0]}`);
  return lines.join('\n');
}

/** Exit code of a finished run: failures 1, blocks 3, anything else 0. */
export function exitCodeOf(r: ReconcileResult): number {
  if (r.status !== 'done') return 4;
  return r.run.decision === 'failed' || r.run.decision === 'interrupted' ? 1 : r.run.decision === 'blocked' ? 3 : 0;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('reconcile')
    .description('reconcile a stack now in this process: preview, gates, then apply, hold or report (exit 3 when blocked)')
    .argument('[stack]', 'the stack (management group) to reconcile')
    .option('--all', 'every stack of the desired state')
    .option('--dry-run', 'preview and gates only, never apply')
    // No --author: the two-person rule reads the commit's author from Git, never from the caller.
    .option('--commit <sha>', 'the commit the desired state comes from (recorded with the run; its Git author may not approve it)')
    .option('--wait <seconds>', 'how long to wait for another instance holding the stack', '300')
    .option('--json', 'print JSON: {"runs":[...]}')
    .action(async (stack: string | undefined, opts: { all?: boolean; dryRun?: boolean; commit?: string; wait: string; json?: boolean }) => {
      if (!stack && !opts.all) throw new UserError('name a stack, or pass --all');
      if (stack && opts.all) throw new UserError('name a stack or pass --all, not both');
      const wait = Number(opts.wait);
      if (!Number.isFinite(wait) || wait < 0) throw new UserError(`--wait: "${opts.wait}" is not a number of seconds`);
      const principal = await cliPrincipal(ctx.config());
      const svc = await guarded(() => ctx.reconcile());
      const results = await guarded(async () => {
        if (stack) return [await svc.reconcile(principal, { stack, trigger: 'manual', dryRun: !!opts.dryRun, commit: opts.commit, leaseWaitMs: wait * 1000 })];
        const state = await svc.deps.compile(opts.commit);
        const out: ReconcileResult[] = [];
        for (const s of state.stacks) out.push(await svc.reconcile(principal, { stack: s.name, trigger: 'manual', dryRun: !!opts.dryRun, commit: opts.commit, leaseWaitMs: wait * 1000, state }));
        return out;
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify({ runs: results.map((r) => (r.status === 'done' ? r.run : r)) }) + '\n');
      } else {
        for (const r of results) {
          process.stdout.write((r.status === 'done' ? describeRun(r.run) : `${r.stack}: skipped, the lease is held by ${r.holder ?? 'another instance'}`) + '\n');
        }
      }
      process.exitCode = Math.max(0, ...results.map(exitCodeOf));
    });
}

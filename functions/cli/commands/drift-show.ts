// `nexus drift [STACK...] [--run ID] [--json]`: the drift reports the API serves, per stack its
// latest (or the one made in a run): counts per kind, each drifted resource with its properties
// desired -> live and who changed them, and the noise the rules removed. Added to the `drift`
// command (functions/cli/commands/drift.ts, which also has `drift judge`).
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { UserError } from '../errors.ts';
import { apiClient, problemLine, type ApiClient } from '../api-client.ts';
import { plain } from '../terminal.ts';
import type { ChangeAttribution, DriftReport } from '../../drift/model.ts';

interface Missing { stack: string; run?: string; detail: string }

const value = (v: unknown): string => (v === undefined ? '(absent)' : plain(JSON.stringify(v) ?? String(v), 80));
const when = (at: string): string => plain(at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'), 40);
const who = (c: ChangeAttribution): string => `by ${plain(c.changedBy, 100)} (${c.actor}) at ${when(c.at)}`;

/** The readable summary of one report. */
export function describeDrift(r: DriftReport): string {
  const lines: string[] = [];
  lines.push(`${plain(r.stack)}: drift report ${r.runId ? `of run ${plain(r.runId)}` : '(no run)'}, ${when(r.at)}, mode ${r.mode}`);
  const kinds = Object.entries(r.counts).filter(([, n]) => (n ?? 0) > 0);
  lines.push(kinds.length === 0
    ? '  no drift'
    : `  ${r.items.length} drifted: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const item of r.items) {
    lines.push(`  ${item.kind.padEnd(22)} ${item.action.padEnd(15)} ${plain(item.resourceId, 300)}`);
    for (const p of item.properties) {
      lines.push(`      ${plain(p.path, 120)}: ${value(p.desired)} -> ${value(p.live)}${p.changedBy ? `  ${who(p.changedBy)}` : ''}`);
    }
    // Without property detail, the resource's latest change says who.
    const latest = item.changes[0];
    if (latest && !item.properties.some((p) => p.changedBy)) lines.push(`      last change ${who(latest)}`);
    lines.push(`      signals: ${item.signals.join(', ') || '-'}; why: ${plain(item.why, 300)}`);
  }
  const total = r.suppressed.reduce((n, s) => n + s.count, 0);
  if (r.suppressed.length) {
    lines.push(`  suppressed noise: ${total} difference${total === 1 ? '' : 's'} by ${r.suppressed.length} rule${r.suppressed.length === 1 ? '' : 's'}`);
    for (const s of r.suppressed) lines.push(`      ${plain(s.rule, 80)}: ${s.count}${s.examples.length ? ` (${s.examples.map((e) => plain(e, 80)).join(', ')})` : ''}`);
  }
  for (const u of r.unavailable) lines.push(`  not read: ${u.signal}: ${plain(u.error)}`);
  if (r.pullRequest) lines.push(`  pull request #${r.pullRequest.number} ${r.pullRequest.state}: ${plain(r.pullRequest.url)}`);
  return lines.join('\n');
}

async function stackNames(client: ApiClient): Promise<string[]> {
  const res = await client.get<{ stacks: Array<{ stack: string }> }>('/api/v1/stacks');
  if (!res.ok) throw new UserError(`cannot list the stacks (HTTP ${res.status}): ${problemLine(res.problem)}`);
  return res.body.stacks.map((s) => s.stack);
}

export function addDriftShow(drift: Command, ctx: CliContext): void {
  // `drift` has subcommands (`drift judge DIR --json`) and options of its own (--json): without
  // positional options, on it and on the program above it, `drift` would take the subcommand's
  // --json for itself and the subcommand would never see it.
  drift.parent?.enablePositionalOptions();
  drift
    .enablePositionalOptions()
    .argument('[stack...]', 'the stacks to show (default: every stack)')
    .option('--run <id>', 'the report made in this run (one STACK only; default: the latest report)')
    .option('--api <url>', 'the Nexus API (default NEXUS_API_URL, else http://127.0.0.1:7070)')
    .option('--json', 'print JSON: {"reports":[DriftReport...],"missing":[{"stack","run"?,"detail"}]}')
    .action(async (stacks: string[], opts: { run?: string; api?: string; json?: boolean }) => {
      if (opts.run !== undefined && stacks.length !== 1) throw new UserError(`--run: a run belongs to one stack; name exactly one STACK (got ${stacks.length})`);
      const client = await apiClient(ctx.config(), opts.api);
      const named = stacks.length > 0;
      const names = named ? stacks : await stackNames(client);
      const reports: DriftReport[] = [];
      const missing: Missing[] = [];
      for (const stack of names) {
        const query = opts.run !== undefined ? `?run=${encodeURIComponent(opts.run)}` : '';
        const res = await client.get<DriftReport>(`/api/v1/stacks/${encodeURIComponent(stack)}/drift${query}`);
        if (res.ok) reports.push(res.body);
        else if (res.status === 404) missing.push({ stack, ...(opts.run !== undefined ? { run: opts.run } : {}), detail: problemLine(res.problem) });
        else throw new UserError(`${stack}: HTTP ${res.status}: ${problemLine(res.problem)}`);
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ reports, missing }) + '\n');
      } else {
        if (names.length === 0) process.stdout.write('no stacks\n');
        for (const r of reports) process.stdout.write(describeDrift(r) + '\n');
        for (const m of missing) process.stdout.write(`${plain(m.stack)}: ${plain(m.detail)}\n`);
      }
      // A stack or run asked for by name and not found is an error; in the list of all stacks, one
      // that has no report yet is not.
      if (named && missing.length) throw new UserError(missing.map((m) => plain(m.detail)).join('; '));
    });
}

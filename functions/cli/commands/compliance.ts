// `nexus compliance [--scope ID] [--json]`: policy compliance per management group and subscription
// as the API serves it (Policy Insights' latest states): resources per state, compliant and
// non-compliant counts per assignment, and the worst offenders.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { UserError } from '../errors.ts';
import { apiClient, problemLine } from '../api-client.ts';
import { plain } from '../terminal.ts';
import type { ComplianceView } from '../../drift/model.ts';

/** The last segment of an ARM id (an assignment's name), or the text as it is. */
const lastSegment = (id: string): string => id.split('/').filter(Boolean).pop() ?? id;

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The first column (names) left-aligned, counts right-aligned.
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The readable view: one table per scope. */
export function describeCompliance(view: ComplianceView): string {
  const lines: string[] = [];
  if (view.scopes.length === 0) lines.push('no scopes');
  for (const s of view.scopes) {
    const r = s.resources;
    lines.push(`${plain(s.name, 120)} (${s.kind === 'managementGroup' ? 'management group' : 'subscription'} ${plain(s.scope, 200)})`);
    lines.push(`  resources: ${r.compliant} compliant, ${r.nonCompliant} non-compliant, ${r.exempt} exempt, ${r.total} total`);
    if (s.assignments.length === 0) lines.push('  no assignments');
    else {
      const rows = s.assignments.map((a) => [plain(a.name, 60), String(a.compliant), String(a.nonCompliant), String(a.exempt), String(a.other)]);
      for (const l of table(['ASSIGNMENT', 'COMPLIANT', 'NON-COMPLIANT', 'EXEMPT', 'OTHER'], rows)) lines.push(`  ${l}`);
    }
    if (s.worstOffenders.length) {
      lines.push('  worst offenders:');
      for (const o of s.worstOffenders) lines.push(`    ${String(o.nonCompliant).padStart(3)}  ${plain(o.resourceId, 300)}  (${o.assignments.map((a) => plain(lastSegment(a), 80)).join(', ')})`);
    }
  }
  for (const u of view.unavailable ?? []) lines.push(`not read: ${plain(u.scope, 200)}: ${plain(u.error)}`);
  return lines.join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('compliance')
    .description('policy compliance per management group and subscription: counts per assignment, worst offenders')
    .option('--scope <id>', 'only this scope: /providers/Microsoft.Management/managementGroups/<name> or /subscriptions/<guid>')
    .option('--api <url>', 'the Nexus API (default NEXUS_API_URL, else http://127.0.0.1:7070)')
    .option('--json', 'print the view as JSON: {"at","scopes":[{"scope","kind","name","resources","assignments","worstOffenders"}],"unavailable"?}')
    .action(async (opts: { scope?: string; api?: string; json?: boolean }) => {
      const client = await apiClient(ctx.config(), opts.api);
      const res = await client.get<ComplianceView>(`/api/v1/compliance${opts.scope !== undefined ? `?scope=${encodeURIComponent(opts.scope)}` : ''}`);
      if (!res.ok) {
        // The API names the query parameter; the user typed the option.
        const where = res.problem.field === 'query.scope' ? '--scope: ' : '';
        throw new UserError(`${where}${problemLine(res.problem)} (HTTP ${res.status})`);
      }
      process.stdout.write((opts.json ? JSON.stringify(res.body) : describeCompliance(res.body)) + '\n');
    });
}

// `nexus drift`: the drift command. `nexus drift judge DIR` runs the normaliser over labelled cases.
import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { CaseError, judgeCases, readCases, type JudgeSummary } from '../../drift/normalise/cases.ts';
import { loadRules, RulesError } from '../../drift/normalise/rules.ts';

/** The `drift` command with its `judge` subcommand; `nexus drift [STACK...]` is added to what this returns. */
export function driftCommand(program: Command): Command {
  const drift = program.command('drift').description('drift: what differs from the desired state, and why');
  drift
    .command('judge')
    .description('judge a folder of labelled drift cases (*.json); exit 1 when any is misjudged')
    .argument('<dir>', 'folder of cases: { resourceType, desired, live, baseline?, expected, why }')
    .option('--json', 'print the result as JSON')
    .option('--rules <file>', "the tenant's rules file (YAML), applied over the shipped rules")
    .action((dir: string, opts: { json?: boolean; rules?: string }) => {
      let summary: JudgeSummary;
      try {
        const rules = loadRules({ tenantFile: opts.rules });
        summary = judgeCases(readCases(dir), rules);
      } catch (err) {
        if (err instanceof CaseError || err instanceof RulesError) throw new UserError(err.message, 2);
        throw err;
      }
      process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
      if (summary.falsePositives + summary.falseNegatives > 0) process.exitCode = 1;
    });
  return drift;
}

function formatSummary(s: JudgeSummary): string {
  const width = Math.max(4, ...s.results.map((r) => r.file.length));
  const lines = s.results.map((r) => {
    const mark = r.expected === r.verdict ? 'ok  ' : r.verdict === 'drift' ? 'FP  ' : 'FN  ';
    const detail = r.verdict === 'drift' ? r.differences.slice(0, 3).map((d) => d.path || '(resource)').join(', ') : r.suppressedBy.join(', ');
    return `${mark}${r.file.padEnd(width)}  ${r.expected.padEnd(5)}  ${r.verdict.padEnd(5)}  ${detail}`;
  });
  lines.push(`${s.cases} cases: ${s.falsePositives} false positives, ${s.falseNegatives} false negatives`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  driftCommand(program);
}

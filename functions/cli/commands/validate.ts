// `nexus validate`: every finding about the libraries and the architecture; exit 1 on any error.
import type { Command } from 'commander';
import { findingCounts, formatFinding, runCompiler, tenantOptions, type TenantFlags } from './compile.ts';

export function register(program: Command): void {
  tenantOptions(program.command('validate').description('check archetypes and libraries; exit 1 on any error')).action((flags: TenantFlags) => {
    // Validation needs no real root group or location; placeholders are used when none is given.
    const c = runCompiler(flags, { fallbackRootMg: 'tenant-root', fallbackLocation: 'westeurope' });
    const findings = c.state.findings;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ findings: findings.map((f) => ({ severity: f.severity, file: f.file, path: f.path, message: f.message, ...(f.code ? { code: f.code } : {}) })) })}\n`);
    } else {
      const lines = findings.map(formatFinding);
      lines.push(`${c.hierarchy.architecture}: ${c.library.fileCount} files, ${c.hierarchy.groups.length} management groups; ${findingCounts(findings)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
  });
}

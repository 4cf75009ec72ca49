// `nexus compile`: archetypes and libraries to the DesiredState summary (management groups, stacks,
// findings). Also the option handling `nexus validate` and `nexus resolve` share.
import type { Command } from 'commander';
import { relative } from 'node:path';
import { compile, InputError, type Compilation, type CompileOptions } from '../../../stacks/compile/index.ts';
import type { Finding } from '../../../stacks/compile/model.ts';
import { compileSummary } from '../../../stacks/compile/report.ts';
import { UserError } from '../errors.ts';

export interface TenantFlags {
  library?: string[];
  architecture?: string;
  rootMg?: string;
  location?: string;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The options every compiler command takes. */
export function tenantOptions(cmd: Command): Command {
  return cmd
    .option('--library <dir>', 'a library directory (ALZ format and/or Nexus YAML); repeat for several (default: the ALZ library and archetypes/)', collect)
    .option('--architecture <name>', 'architecture to compile (default: nexus-default, or the only one)')
    .option('--root-mg <id>', 'the existing management group the architecture hangs under')
    .option('--location <location>', 'default Azure location')
    .option('--json', 'machine-readable output');
}

/** Runs the compiler; bad input becomes one UserError naming the file and field. */
export function runCompiler(flags: TenantFlags, extra: Partial<CompileOptions> = {}): Compilation {
  try {
    return compile({ libraries: flags.library, architecture: flags.architecture, rootMg: flags.rootMg, location: flags.location, ...extra });
  } catch (err) {
    if (err instanceof InputError) throw new UserError(err.message);
    throw err;
  }
}

export function shortPath(file: string): string {
  if (!file) return '(options)';
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') && rel.split('/').length > 4 ? file : rel || file;
}

export function formatFinding(f: Finding): string {
  return `${f.severity.padEnd(7)} ${shortPath(f.file)}${f.path ? ` ${f.path}` : ''}: ${f.message}`;
}

export function findingCounts(findings: Finding[]): string {
  const n = (s: string) => findings.filter((f) => f.severity === s).length;
  return `${n('error')} errors, ${n('warning')} warnings, ${n('info')} info`;
}

export function register(program: Command): void {
  tenantOptions(program.command('compile').description('compile archetypes into one Pulumi stack per management group')).action((flags: TenantFlags) => {
    const c = runCompiler(flags);
    const summary = compileSummary(c);
    const errors = c.state.findings.filter((f) => f.severity === 'error');
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      const out: string[] = [`architecture ${c.hierarchy.architecture} under ${c.state.rootManagementGroupId}, location ${c.state.location}`];
      for (const g of summary.managementGroups) {
        out.push(
          `  ${g.id.padEnd(16)} parent ${g.parentId.padEnd(16)} [${g.archetypes.join(', ')}] ${g.policyAssignments.length} assignments, ${g.policyDefinitions} definitions, ${g.policySetDefinitions} sets, ${g.roleDefinitions} roles, ${g.roleAssignments} role assignments`,
        );
      }
      out.push(`${summary.stacks.length} stacks, ${c.state.resources.length} resources; ${findingCounts(c.state.findings)}`);
      for (const f of c.state.findings.filter((x) => x.severity !== 'info')) out.push(formatFinding(f));
      process.stdout.write(`${out.join('\n')}\n`);
    }
    if (errors.length) {
      if (!flags.json) throw new UserError(`compile failed: ${errors.length} error(s); first: ${formatFinding(errors[0]!).replace(/^error\s+/, '')}`);
      process.exitCode = 1;
    }
  });
}

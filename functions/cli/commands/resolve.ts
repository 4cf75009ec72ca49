// `nexus resolve --mg ID`: the effective archetype of one management group and where each item came from.
import type { Command } from 'commander';
import { resolveReport, type ItemOrigin } from '../../../stacks/compile/report.ts';
import { UserError } from '../errors.ts';
import { formatFinding, runCompiler, shortPath, tenantOptions, type TenantFlags } from './compile.ts';

const from = (o: ItemOrigin) => {
  const chain = o.via.length ? ` via ${o.via.join(' > ')}` : '';
  const over = o.overriddenBy ? `; overridden in ${shortPath(o.overriddenBy.file)} ${o.overriddenBy.path}` : '';
  return `from ${o.archetype}${chain} (${shortPath(o.file)}${o.path ? ` ${o.path}` : ''})${over}`;
};

export function register(program: Command): void {
  tenantOptions(program.command('resolve').description('show the effective archetype of a management group').requiredOption('--mg <id>', 'management group id')).action(
    (flags: TenantFlags & { mg: string }) => {
      const c = runCompiler(flags, { fallbackRootMg: 'tenant-root', fallbackLocation: 'westeurope' });
      const r = resolveReport(c, flags.mg);
      if (!r) throw new UserError(`management group "${flags.mg}" is not in architecture ${c.hierarchy.architecture} (groups: ${c.hierarchy.groups.map((g) => g.id).join(', ')})`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const g = r.managementGroup;
      const out = [`${g.id} (${g.displayName}), parent ${g.parentId}${g.exists ? ', exists' : ''}; archetypes: ${g.archetypes.join(', ') || 'none'}`];
      const section = (title: string, lines: string[]) => {
        out.push(`${title} (${lines.length})`);
        for (const l of lines) out.push(`  ${l}`);
      };
      section(
        'policy assignments',
        r.policyAssignments.map((a) => `${a.name}${a.enforcementMode === 'DoNotEnforce' ? ' [DoNotEnforce]' : ''}${a.identity ? ' [identity]' : ''} -> ${a.policyDefinitionId.split('/').pop()}  ${from(a)}`),
      );
      section('policy definitions', r.policyDefinitions.map((d) => `${d.name}  ${from(d)}`));
      section('policy set definitions', r.policySetDefinitions.map((d) => `${d.name}  ${from(d)}`));
      section('role definitions', r.roleDefinitions.map((d) => `${d.name} (${d.roleDefinitionName})  ${from(d)}`));
      section('rbac', r.rbac.map((x) => `${x.name}: ${x.role}  ${from(x)}`));
      section('resources', r.resources.map((x) => `${x.name}: ${x.type}  ${from(x)}`));
      if (r.exemptions.length) {
        section('exemptions', r.exemptions.map((e) => `${e.name}: ${e.category} of ${e.policy} at ${e.scope}${e.expiresOn ? `, expires ${e.expiresOn}` : ''}  ${from(e)}`));
      }
      if (r.subscriptions.length) section('subscriptions', r.subscriptions);
      if (r.findings.length) section('findings', r.findings.map(formatFinding));
      process.stdout.write(`${out.join('\n')}\n`);
    },
  );
}

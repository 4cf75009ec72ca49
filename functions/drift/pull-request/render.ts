// The drift pull request's text: the body (the drift as a table, json-diff per resource, who changed
// what and when, the risk and the approvals the change will need) and `drift/<stack>.md`, which
// documents the revert the next apply would make where no archetype can express the live value.
import { code, fenced, text } from '../../gitops/comment/escape.ts';
import { propertyDiff } from '../../gitops/comment/details.ts';
import type { ApprovalRequirement } from '../../reconcile/gates/types.ts';
import type { ChangeAttribution, DriftItem, PropertyDrift } from '../model.ts';
import type { Risk } from './risk.ts';

/** What became of one differing property. */
export type Proposal =
  | { kind: 'adopted'; file: string; where: string }
  | { kind: 'documented'; reason: string };

export interface PlannedProperty { item: DriftItem; property: PropertyDrift; proposal: Proposal }

const VALUE_MAX = 120;
const ROWS_MAX = 200;
const DIFF_BLOCK_MAX = 20_000;

function json(v: unknown): string {
  if (v === undefined) return '(absent)';
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

export function who(p: PropertyDrift, item: DriftItem): ChangeAttribution | undefined {
  return p.changedBy ?? item.changes[0];
}

function whoText(a: ChangeAttribution | undefined): string {
  if (!a) return 'unknown';
  return `${a.changedBy} (${a.actor}${a.clientType ? `, ${a.clientType}` : ''})`;
}

function shortName(id: string): string {
  const parts = id.split('/');
  return `${parts[parts.length - 2] ?? ''}/${parts[parts.length - 1] ?? id}`;
}

function proposalText(p: Proposal, stack: string): string {
  return p.kind === 'adopted' ? `adopted in ${code(p.file, 200)} at ${code(p.where, 300)}` : `revert documented in ${code(`drift/${stack}.md`)} (${text(p.reason, 200)})`;
}

function diffBlock(item: DriftItem): string {
  const raw = item.diffText ?? item.properties.map((p) => propertyDiff({ path: p.path, kind: 'update', old: p.desired, new: p.live })).join('');
  const out = raw.length > DIFF_BLOCK_MAX ? `${raw.slice(0, DIFF_BLOCK_MAX)}\n… (${raw.length - DIFF_BLOCK_MAX} more characters)\n` : raw;
  return `<details><summary>${text(item.resourceId, 500)}</summary>\n\n${fenced(out, 'diff')}\n</details>`;
}

export function renderBody(opts: { stack: string; planned: PlannedProperty[]; risk: Risk; approvals: ApprovalRequirement[] }): string {
  const { stack, planned, risk, approvals } = opts;
  const adopted = planned.filter((p) => p.proposal.kind === 'adopted').length;
  const documented = planned.length - adopted;
  const items = [...new Set(planned.map((p) => p.item))];
  const lines: string[] = [
    `Nexus found configuration drift on stack ${code(stack)}: ${items.length} resource${items.length === 1 ? '' : 's'} changed outside the landing-zone repository.`,
    adopted ? `- **${adopted}** live value${adopted === 1 ? ' is' : 's are'} adopted into the archetypes: merging keeps them.` : '',
    documented ? `- **${documented}** cannot be expressed in an archetype: ${code(`drift/${stack}.md`)} documents the revert the next apply would make.` : '',
    '',
    `**Risk: ${risk.score}/100 (${risk.level})**`,
    '',
    '| Factor | Points | Why |',
    '|---|---|---|',
    ...risk.factors.map((f) => `| ${f.factor} | ${f.points}/${f.max} | ${text(f.why, 300)} |`),
    '',
    '**Approvals this change will need**',
    '',
    ...(approvals.length
      ? approvals.map((a) => `- ${a.approvers} from ${code(a.group, 200)} (rule ${code(a.rule, 200)})`)
      : ['- none beyond the repository\'s own review rules']),
    '',
    '### Drift',
    '',
    '| Resource | Property | Desired | Live | Changed by | When | Proposal |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const p of planned.slice(0, ROWS_MAX)) {
    const a = who(p.property, p.item);
    lines.push(`| ${code(shortName(p.item.resourceId), 200)} | ${code(p.property.path, 300)} | ${code(json(p.property.desired), VALUE_MAX)} | ${code(json(p.property.live), VALUE_MAX)} | ${text(whoText(a), 200)} | ${text(a?.at ?? 'unknown', 40)} | ${proposalText(p.proposal, stack)} |`);
  }
  if (planned.length > ROWS_MAX) lines.push('', `… and ${planned.length - ROWS_MAX} more properties (\`nexus drift ${stack}\` lists them all).`);
  lines.push('', '### Differences (desired → live)', '', ...items.map(diffBlock));
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

function mdValue(v: unknown): string {
  // Inside a fenced block, only the fence can break out; fenced() makes it longer than any run inside.
  return fenced(JSON.stringify(v, null, 2) ?? 'undefined', 'json');
}

export function renderRevertDoc(stack: string, planned: PlannedProperty[]): string {
  const doc = planned.filter((p) => p.proposal.kind === 'documented');
  const out: string[] = [
    `# Drift on stack \`${stack}\`: what the next apply reverts`,
    '',
    'These changes were made outside the landing-zone repository and cannot be expressed in an archetype',
    '(a property of an ALZ library file, a resource no archetype declares, or another property Nexus does not',
    'adopt). The next apply in `remediate` mode puts each back to the desired value below; to keep one, change',
    'its source (the library, or an archetype) instead. Written by Nexus; merging this file changes nothing in Azure.',
  ];
  for (const item of [...new Set(doc.map((p) => p.item))]) {
    out.push('', `## ${text(item.resourceId, 1000)}`, '', `- Type: ${code(item.resourceType, 200)}`, `- Why: ${text(item.why, 500)}`);
    for (const p of doc.filter((d) => d.item === item)) {
      const a = who(p.property, item);
      out.push('', `### ${code(p.property.path, 300)}`, '',
        `- Changed by: ${text(whoText(a), 300)}`, `- When: ${text(a?.at ?? 'unknown', 60)}`,
        `- Not adopted: ${text((p.proposal as { reason: string }).reason, 300)}`,
        `- The next apply sets it back to (desired):`, '', mdValue(p.property.desired), '', '- It is now (live):', '', mdValue(p.property.live));
    }
  }
  return `${out.join('\n')}\n`;
}

// Policy exemptions as code: an archetype's `spec.exemptions` placed on its management group (or on a
// subscription / resource group below it), checked against the assignments the group inherits.
// A bad exemption is a finding naming its field and is left out; an expired one is only a warning.
import type { ExemptionItem } from './archetypes.ts';
import type { Hierarchy } from './hierarchy.ts';
import { authz, GUID, mgScope } from './ids.ts';
import type { Finding } from './model.ts';
import type { PlacedAssignment, PlacedGroup } from './placeholders.ts';
import type { DefinitionIndex } from './policy-model.ts';

export interface PlacedExemption {
  item: ExemptionItem;
  id: string;
  name: string;
  /** Where the exemption is created: the group's scope, a subscription or a resource group. */
  scope: string;
  assignmentId: string;
  properties: Record<string, unknown>;
  /** Ids it waits for (the assignment; the subscription's placement when the scope is a subscription). */
  dependsOn: string[];
}

export const EXEMPTION_CATEGORIES = ['Waiver', 'Mitigated'] as const;
/** Azure's naming rule for policy exemptions: 1-64 characters, none of `#<>*%&:\?+/`, no control characters, no trailing period or space. */
const NAME_FORBIDDEN = /[#<>*%&:\\?+/\u0000-\u001f]/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const ASSIGNMENT_ID = /^(\/.*)?\/providers\/Microsoft\.Authorization\/policyAssignments\/([^/]+)$/i;
const SUBSCRIPTION_SCOPE = /^\/subscriptions\/([0-9a-f-]{36})(\/resourceGroups\/[-\w.()]{1,90})?$/i;

export function exemptionNameProblem(name: string): string | undefined {
  if (name.length > 64) return `has ${name.length} characters; Azure allows 64`;
  if (NAME_FORBIDDEN.test(name)) return 'contains a character Azure refuses in exemption names (# < > * % & : \\ ? + / or a control character)';
  if (/[. ]$/.test(name)) return 'ends with a period or a space';
  return undefined;
}

/** `expiresOn` as ARM stores it (UTC, seconds), or a problem. */
export function parseExpiry(v: string | Date): { iso: string; at: Date } | { problem: string } {
  const text = v instanceof Date ? v.toISOString() : v.trim();
  const at = new Date(text);
  if (!ISO_DATE_TIME.test(text) || Number.isNaN(at.getTime())) return { problem: `"${text}" is not an ISO 8601 date-time (e.g. 2026-06-30T00:00:00Z)` };
  return { iso: at.toISOString().replace(/\.000Z$/, 'Z'), at };
}

export interface ExemptionContext {
  hierarchy: Hierarchy;
  /** Placed groups by management group id. */
  placed: Map<string, PlacedGroup>;
  index: DefinitionIndex;
  findings: Finding[];
  now: Date;
  /** Exemption ids placed so far (lower-cased) and where each is declared: two exemptions must not share an id. */
  placedIds: Map<string, string>;
}

/** The group ids from `mgId` up to the top of the managed hierarchy. */
function chain(h: Hierarchy, mgId: string): string[] {
  const out: string[] = [];
  for (let g = h.byId.get(mgId); g && !out.includes(g.id); g = h.byId.get(g.parentId)) out.push(g.id);
  return out;
}

export function placeExemptions(pg: PlacedGroup, ctx: ExemptionContext): PlacedExemption[] {
  const out: PlacedExemption[] = [];
  for (const item of pg.eg.content.exemptions.values()) {
    const placed = placeOne(item, pg, ctx);
    if (placed) out.push(placed);
  }
  return out;
}

function placeOne(item: ExemptionItem, pg: PlacedGroup, ctx: ExemptionContext): PlacedExemption | undefined {
  const e = item.spec;
  const file = item.origin.file;
  const at = (field: string) => `${item.origin.path}.${field}`;
  const mgId = pg.eg.group.id;
  let ok = true;
  const error = (code: string, field: string, message: string) => {
    ctx.findings.push({ severity: 'error', code, file, path: at(field), message: `exemption "${e.name}" at "${mgId}": ${message}` });
    ok = false;
  };

  const nameProblem = exemptionNameProblem(e.name);
  if (nameProblem) error('exemption-name-invalid', 'name', `the name ${nameProblem}`);

  const category = EXEMPTION_CATEGORIES.find((c) => c.toLowerCase() === e.category.toLowerCase());
  if (!category) error('exemption-bad-category', 'category', `category "${e.category}" is not one of ${EXEMPTION_CATEGORIES.join(', ')}`);

  let expiresOn: string | undefined;
  if (e.expiresOn !== undefined) {
    const x = parseExpiry(e.expiresOn);
    if ('problem' in x) error('exemption-bad-expiry', 'expiresOn', x.problem);
    else {
      expiresOn = x.iso;
      if (x.at.getTime() <= ctx.now.getTime()) {
        ctx.findings.push({ severity: 'warning', code: 'exemption-expired', file, path: at('expiresOn'), message: `exemption "${e.name}" at "${mgId}" expired on ${x.iso}; remove it from the archetype` });
      }
    }
  }

  const scope = exemptionScope(e.scope, pg, ctx, error);
  const assignment = findAssignment(e.policy, mgId, ctx, error);
  if (assignment?.placed && e.policyDefinitionReferenceIds?.length) checkReferenceIds(assignment.placed, e.policyDefinitionReferenceIds, ctx, error);
  if (!ok || !scope || !assignment || !category) return undefined;
  const id = authz(scope.id, 'policyExemptions', e.name);
  const prior = ctx.placedIds.get(id.toLowerCase());
  if (prior) {
    error('duplicate-name', 'name', `another exemption (${prior}) already has the id ${id}`);
    return undefined;
  }
  ctx.placedIds.set(id.toLowerCase(), `${file} ${item.origin.path} at "${mgId}"`);

  const properties: Record<string, unknown> = {
    policyAssignmentId: assignment.id,
    exemptionCategory: category,
    displayName: e.displayName ?? e.name,
    description: e.reason,
    ...(expiresOn ? { expiresOn } : {}),
    ...(e.policyDefinitionReferenceIds?.length ? { policyDefinitionReferenceIds: e.policyDefinitionReferenceIds } : {}),
  };
  return { item, id, name: e.name, scope: scope.id, assignmentId: assignment.id, properties, dependsOn: [assignment.id, ...scope.dependsOn] };
}

type Report = (code: string, field: string, message: string) => void;

function exemptionScope(raw: string | undefined, pg: PlacedGroup, ctx: ExemptionContext, error: Report): { id: string; dependsOn: string[] } | undefined {
  if (raw === undefined || raw === 'group') return { id: pg.scope, dependsOn: [] };
  const m = SUBSCRIPTION_SCOPE.exec(raw);
  if (!m || !GUID.test(m[1]!)) {
    error('exemption-bad-scope', 'scope', `scope "${raw}" is neither 'group' nor a subscription or resource group id (/subscriptions/<guid>[/resourceGroups/<name>])`);
    return undefined;
  }
  const sub = m[1]!.toLowerCase();
  const placement = ctx.hierarchy.placements.find((p) => p.subscriptionId.toLowerCase() === sub);
  // A subscription the architecture places elsewhere is not under this group: the exemption would exempt nothing.
  if (placement && !chain(ctx.hierarchy, placement.managementGroupId).includes(pg.eg.group.id)) {
    error('exemption-scope-outside', 'scope', `subscription ${sub} is placed under "${placement.managementGroupId}", not at or below "${pg.eg.group.id}"`);
    return undefined;
  }
  return { id: raw, dependsOn: placement ? [`${mgScope(placement.managementGroupId)}/subscriptions/${placement.subscriptionId}`] : [] };
}

function findAssignment(policy: string, mgId: string, ctx: ExemptionContext, error: Report): { id: string; placed?: PlacedAssignment } | undefined {
  const groups = chain(ctx.hierarchy, mgId);
  if (policy.startsWith('/')) {
    const m = ASSIGNMENT_ID.exec(policy);
    if (!m) {
      error('exemption-unknown-assignment', 'policy', `"${policy}" is not a policy assignment id (…/providers/Microsoft.Authorization/policyAssignments/<name>)`);
      return undefined;
    }
    const scope = (m[1] ?? '').toLowerCase();
    const managed = ctx.hierarchy.groups.find((g) => mgScope(g.id).toLowerCase() === scope);
    // An assignment outside the managed hierarchy is taken on trust; one inside must be compiled and above.
    if (!managed) return { id: policy };
    const placed = ctx.placed.get(managed.id)?.assignments.find((a) => a.id.toLowerCase() === policy.toLowerCase());
    if (!placed) {
      error('exemption-unknown-assignment', 'policy', `management group "${managed.id}" has no policy assignment "${m[2]}"`);
      return undefined;
    }
    if (!groups.includes(managed.id)) {
      error('exemption-unknown-assignment', 'policy', `assignment "${m[2]}" is at "${managed.id}", which is not "${mgId}" or above it`);
      return undefined;
    }
    return { id: placed.id, placed };
  }
  for (const g of groups) {
    const placed = ctx.placed.get(g)?.assignments.find((a) => a.name === policy);
    if (placed) return { id: placed.id, placed };
  }
  error('exemption-unknown-assignment', 'policy', `no policy assignment "${policy}" at "${mgId}" or any group above it (${groups.join(' -> ')})`);
  return undefined;
}

function checkReferenceIds(pa: PlacedAssignment, refs: string[], ctx: ExemptionContext, error: Report): void {
  const def = ctx.index.lookup(pa.definitionId);
  // A built-in missing from the cache cannot be checked (the parameters rule already warns about it).
  if (!def) return;
  if (def.kind !== 'policySetDefinition') {
    error('exemption-unknown-reference-id', 'policyDefinitionReferenceIds', `assignment "${pa.name}" assigns a policy definition, not a set: it has no policy definition reference ids`);
    return;
  }
  const known = (def.properties.policyDefinitions ?? []).map((m) => m.policyDefinitionReferenceId).filter((r): r is string => !!r);
  const lower = new Set(known.map((r) => r.toLowerCase()));
  refs.forEach((r, i) => {
    if (!lower.has(r.toLowerCase())) {
      error('exemption-unknown-reference-id', `policyDefinitionReferenceIds[${i}]`, `"${r}" is not a reference id of "${def.properties.displayName ?? def.name}" (assignment "${pa.name}"; known: ${known.join(', ') || 'none'})`);
    }
  });
}

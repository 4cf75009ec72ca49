// The management group tree of one architecture (ALZ or Nexus, with `extends`), plus subscription
// placement, policy default values and principal names. Groups come out parents first.
import { InputError } from './errors.ts';
import type { Finding } from './model.ts';
import type { ArchitectureSource, Library } from './library/types.ts';

export interface GroupNode {
  id: string;
  displayName: string;
  /** Parent group id; the root management group for top-level groups. */
  parentId: string;
  archetypes: string[];
  exists: boolean;
  file: string;
  path: string;
  /** Where the parent is declared (`parent_id` in ALZ files, `parent` in Nexus; the base's when not repeated). */
  parentAt: { file: string; path: string };
}

export interface Placement {
  subscriptionId: string;
  managementGroupId: string;
  file: string;
  path: string;
}

export interface DefaultValue {
  value: unknown;
  file: string;
  path: string;
}

export interface Hierarchy {
  architecture: string;
  file: string;
  tenantRootId: string;
  rootManagementGroupId: string;
  location: string;
  /** Parents before children. */
  groups: GroupNode[];
  byId: Map<string, GroupNode>;
  placements: Placement[];
  defaults: Map<string, DefaultValue>;
  principals: Map<string, string>;
}

export interface HierarchyOptions {
  rootMg?: string;
  tenantRootId?: string;
  location?: string;
  subscriptions?: { id: string; managementGroup: string }[];
  /** Used only when neither the options nor the architecture name a root group / location (validation). */
  fallbackRootMg?: string;
  fallbackLocation?: string;
}

interface Draft {
  groups: Map<string, GroupNode>;
  placements: Placement[];
  defaults: Map<string, DefaultValue>;
  principals: Map<string, string>;
  tenantRootId?: string;
  rootMg?: string;
  location?: string;
}

const ROOT = '';

export function buildHierarchy(lib: Library, name: string, opts: HierarchyOptions, findings: Finding[]): Hierarchy {
  const src = lib.architectures.get(name);
  if (!src) {
    const known = [...lib.architectures.keys()].join(', ') || 'none';
    throw new InputError('', 'architecture', `unknown architecture "${name}" (known: ${known})`);
  }
  const draft = collect(lib, src, [], findings);
  const rootMg = opts.rootMg ?? draft.rootMg ?? draft.tenantRootId ?? opts.tenantRootId ?? opts.fallbackRootMg;
  if (!rootMg) throw new InputError(src.file, 'spec.rootManagementGroup', 'no root management group: pass --root-mg or set spec.rootManagementGroup');
  const location = opts.location ?? draft.location ?? opts.fallbackLocation;
  if (!location) throw new InputError(src.file, 'spec.location', 'no default location: pass --location or set spec.location');
  const tenantRootId = opts.tenantRootId ?? draft.tenantRootId ?? rootMg;
  rejectRootInside(draft, rootMg, rootSource(opts, draft));

  for (const [i, s] of (opts.subscriptions ?? []).entries()) {
    draft.placements.push({ subscriptionId: s.id, managementGroupId: s.managementGroup, file: '', path: `subscriptions[${i}]` });
  }
  const groups = order(draft.groups, rootMg, findings);
  const byId = new Map(groups.map((g) => [g.id, g]));
  const placed = new Map<string, Placement>();
  const placements: Placement[] = [];
  for (const p of draft.placements) {
    if (!byId.has(p.managementGroupId)) {
      findings.push({ severity: 'error', code: 'unknown-management-group', file: p.file, path: `${p.path}.managementGroup`, message: `subscription ${p.subscriptionId} is placed under unknown management group "${p.managementGroupId}"` });
      continue;
    }
    const key = p.subscriptionId.toLowerCase();
    const prior = placed.get(key);
    if (prior) {
      if (prior.managementGroupId !== p.managementGroupId) {
        findings.push({ severity: 'error', code: 'duplicate-name', file: p.file, path: `${p.path}.id`, message: `subscription ${p.subscriptionId} is placed under both "${prior.managementGroupId}" and "${p.managementGroupId}"` });
      }
      continue;
    }
    placed.set(key, p);
    placements.push(p);
  }
  return { architecture: name, file: src.file, tenantRootId, rootManagementGroupId: rootMg, location, groups, byId, placements, defaults: draft.defaults, principals: draft.principals };
}

/** Where the root group's id came from, for messages (same precedence as buildHierarchy's). */
function rootSource(opts: HierarchyOptions, draft: Draft): string {
  if (opts.rootMg) return '--root-mg';
  if (draft.rootMg) return 'spec.rootManagementGroup';
  if (draft.tenantRootId) return 'spec.tenantRootId';
  if (opts.tenantRootId) return 'the tenant root id';
  return 'the default root group';
}

/**
 * The root group is the existing group the architecture hangs under, so it cannot also be one of the
 * architecture's groups: that group would become its own parent, and every walk up the tree (policy
 * placement, hierarchy validation) would never end. Azure compares group ids case-insensitively.
 */
function rejectRootInside(draft: Draft, rootMg: string, source: string): void {
  const key = rootMg.toLowerCase();
  const g = [...draft.groups.values()].find((x) => x.id.toLowerCase() === key);
  if (!g) return;
  throw new InputError(
    g.file,
    `${g.path}.id`,
    `the root management group "${rootMg}" (from ${source}) is also a management group of this architecture, so it would be its own parent: the root must be the existing group above the architecture's groups (such as the tenant root group)`,
  );
}

function collect(lib: Library, src: ArchitectureSource, chain: string[], findings: Finding[]): Draft {
  if (src.kind === 'alz') {
    const groups = new Map<string, GroupNode>();
    src.value.management_groups.forEach((g, i) => {
      const path = `management_groups[${i}]`;
      if (groups.has(g.id)) {
        findings.push({ severity: 'error', code: 'duplicate-name', file: src.file, path: `${path}.id`, message: `management group "${g.id}" is declared twice` });
        return;
      }
      groups.set(g.id, { id: g.id, displayName: g.display_name, parentId: g.parent_id ?? ROOT, archetypes: g.archetypes, exists: g.exists, file: src.file, path, parentAt: { file: src.file, path: `${path}.parent_id` } });
    });
    return { groups, placements: [], defaults: new Map(), principals: new Map() };
  }
  const spec = src.value.spec;
  let draft: Draft = { groups: new Map(), placements: [], defaults: new Map(), principals: new Map() };
  if (spec.extends) {
    const base = lib.architectures.get(spec.extends);
    if (!base) {
      findings.push({ severity: 'error', code: 'unknown-architecture', file: src.file, path: 'spec.extends', message: `unknown architecture "${spec.extends}"` });
    } else if (chain.includes(base.name) || base.name === src.name) {
      findings.push({ severity: 'error', code: 'inheritance-cycle', file: src.file, path: 'spec.extends', message: `architecture cycle: ${[...chain, src.name, base.name].join(' -> ')}` });
    } else {
      draft = collect(lib, base, [...chain, src.name], findings);
    }
  }
  const seen = new Set<string>();
  spec.managementGroups.forEach((g, i) => {
    const path = `spec.managementGroups[${i}]`;
    if (seen.has(g.id)) {
      findings.push({ severity: 'error', code: 'duplicate-name', file: src.file, path: `${path}.id`, message: `management group "${g.id}" is declared twice` });
      return;
    }
    seen.add(g.id);
    const prior = draft.groups.get(g.id);
    draft.groups.set(g.id, {
      id: g.id,
      displayName: g.displayName ?? prior?.displayName ?? g.id,
      parentId: g.parent === undefined ? (prior?.parentId ?? ROOT) : (g.parent ?? ROOT),
      archetypes: g.archetypes ?? prior?.archetypes ?? [],
      exists: g.exists ?? prior?.exists ?? false,
      file: src.file,
      path,
      parentAt: g.parent === undefined && prior ? prior.parentAt : { file: src.file, path: `${path}.parent` },
    });
  });
  spec.subscriptions.forEach((s, i) => draft.placements.push({ subscriptionId: s.id, managementGroupId: s.managementGroup, file: src.file, path: `spec.subscriptions[${i}]` }));
  for (const [k, v] of Object.entries(spec.policyDefaultValues)) draft.defaults.set(k, { value: v, file: src.file, path: `spec.policyDefaultValues.${k}` });
  for (const [k, v] of Object.entries(spec.principals)) draft.principals.set(k, v);
  draft.tenantRootId = spec.tenantRootId ?? draft.tenantRootId;
  draft.rootMg = spec.rootManagementGroup ?? draft.rootMg;
  draft.location = spec.location ?? draft.location;
  return draft;
}

/** Parents first; unknown parents and parent cycles become findings and drop the group. */
function order(groups: Map<string, GroupNode>, rootMg: string, findings: Finding[]): GroupNode[] {
  const out: GroupNode[] = [];
  const state = new Map<string, 'visiting' | 'done' | 'bad'>();
  const visit = (g: GroupNode, trail: string[]): boolean => {
    const s = state.get(g.id);
    if (s === 'done') return true;
    if (s === 'bad') return false;
    if (s === 'visiting') {
      findings.push({ severity: 'error', code: 'hierarchy-cycle', file: g.parentAt.file, path: g.parentAt.path, message: `management group parents form a cycle: ${[...trail, g.id].join(' -> ')}` });
      state.set(g.id, 'bad');
      return false;
    }
    state.set(g.id, 'visiting');
    let ok = true;
    if (g.parentId !== ROOT && g.parentId !== rootMg) {
      const parent = groups.get(g.parentId);
      if (!parent) {
        findings.push({ severity: 'error', code: 'unknown-management-group', file: g.parentAt.file, path: g.parentAt.path, message: `management group "${g.id}" has unknown parent "${g.parentId}"` });
        ok = false;
      } else ok = visit(parent, [...trail, g.id]);
    }
    if (!ok) {
      state.set(g.id, 'bad');
      return false;
    }
    state.set(g.id, 'done');
    out.push({ ...g, parentId: g.parentId === ROOT ? rootMg : g.parentId });
    return true;
  };
  for (const g of groups.values()) visit(g, []);
  return out;
}

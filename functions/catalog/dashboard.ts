// Who a signed-in principal is in the catalog (their User and Teams), and their personal dashboard:
// teams, what they own, recent runs, open pull requests and environments. All from the index.
import type { Entity } from './kinds.ts';
import type { MemoryIndex } from './memory-index.ts';
import { parseRef, refKey, toEntityName } from './refs.ts';
import { RECENT_RUNS, type CatalogPrincipal, type RecentRunsPort } from './types.ts';

export interface Dashboard {
  user?: Entity; teams: Entity[]; owned: Entity[]; recentRuns: unknown[]; openPullRequests: unknown[]; environments: Entity[];
}

/**
 * Who the principal is in the catalog and which teams it belongs to. The User is found by a
 * stable identity only: its Entra object id, or its full e-mail as a User records it (identity
 * fields only Admin or ingestion write); never by a display name or an e-mail's local part.
 * Teams come from the token's Entra groups and from Teams listing that User as a member.
 */
export function identify(index: MemoryIndex, principal: CatalogPrincipal): { user?: string; teams: string[] } {
  const user = userKeyOf(index, principal);
  const teams = new Set<string>(index.teamsByEntraGroups(principal.groups ?? []));
  if (user) for (const t of index.teamsOfUser(user)) teams.add(t);
  // Local tokens (dev-token --groups) name teams directly; Entra groups are object ids.
  if (principal.local) {
    for (const g of principal.groups ?? []) {
      try {
        teams.add(refKey(parseRef(g, { kind: 'team' })));
      } catch { /* not a team name */ }
    }
  }
  return { ...(user ? { user } : {}), teams: [...teams].sort() };
}

/** The personal dashboard: teams, owned entities, recent runs, open pull requests, environments. */
export async function dashboard(index: MemoryIndex, principal: CatalogPrincipal, runs: RecentRunsPort | undefined): Promise<Dashboard> {
  const { user: userKey, teams: teamKeys } = identify(index, principal);
  const owners = [...teamKeys, ...(userKey ? [userKey] : [])];
  const owned = index.ownedBy(owners);
  const ownedSet = new Set(owned);
  const user = userKey ? index.view(userKey) : undefined;
  const logins = new Set([principal.name, principal.email, user?.spec.githubLogin].filter(Boolean).map((s) => String(s).toLowerCase()));
  const openPullRequests: unknown[] = [];
  for (const k of index.keysWhere((i) => i.entity.kind === 'Repository')) {
    const repo = index.entity(k)!;
    for (const pr of (repo.spec.openPullRequests as Array<{ author?: string }> | undefined) ?? []) {
      if (ownedSet.has(k) || (pr.author && logins.has(pr.author.toLowerCase()))) openPullRequests.push({ repository: k, ...pr });
    }
  }
  const envs = new Set<string>();
  for (const k of owned) {
    const e = index.entity(k)!;
    if (e.kind === 'Environment') envs.add(k);
    for (const r of index.relationsOf(k)) if (r.type === 'deployedTo') envs.add(r.targetRef);
  }
  const recentRuns = runs ? await runs.recent({ principal, teams: teamKeys, stacks: stackNames(index, owned), limit: RECENT_RUNS }) : [];
  return {
    user,
    teams: teamKeys.map((k) => index.view(k)!).filter(Boolean),
    owned: owned.map((k) => index.view(k)!),
    recentRuns,
    openPullRequests,
    environments: [...envs].sort().map((k) => index.view(k)).filter((e): e is Entity => !!e),
  };
}

/**
 * The stack names behind Stack entities, as runs record them: Pulumi ingestion keeps the stack's
 * own spelling in the title (the entity name is its normalised form), so both are tried.
 */
export function stackNames(index: MemoryIndex, keys: string[]): string[] {
  const names = new Set<string>();
  for (const k of keys) {
    const e = index.entity(k);
    if (e?.kind !== 'Stack') continue;
    names.add(e.metadata.name);
    const title = e.metadata.title;
    if (title && toEntityName(title).toLowerCase() === e.metadata.name.toLowerCase()) names.add(title);
  }
  return [...names];
}

function userKeyOf(index: MemoryIndex, p: CatalogPrincipal): string | undefined {
  const byOid = p.id ? index.userByOid(p.id) : undefined;
  if (byOid) return byOid;
  const byMail = p.email ? index.userByEmail(p.email) : undefined;
  if (byMail) return byMail;
  // The local issuer's subject is the user name itself (development and tests only).
  if (p.local && p.id) {
    try { return refKey(parseRef(p.id, { kind: 'user' })); } catch { /* not a valid name */ }
  }
  return undefined;
}

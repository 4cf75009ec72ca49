// ARM deployments Running or Accepted at or under a scope (a management group with its groups,
// subscriptions and their resource groups; a subscription with its resource groups; a resource
// group). A run that finds one waits or reports DEPLOYMENT_IN_PROGRESS; it never races it.
import { armRequest, type ArmConfig } from './arm.ts';
import { policyScope } from './policy-insights.ts';
import { mapLimit } from './map-limit.ts';

export const ACTIVE_STATES = ['Running', 'Accepted'] as const;

const DEPLOYMENTS_API = '2021-04-01';
const GROUPS_API = '2020-05-01';
const RESOURCE_GROUPS_API = '2021-04-01';

export interface ActiveDeployment {
  id: string;
  name: string;
  /** The management group, subscription or resource group it deploys at. */
  scope: string;
  provisioningState: (typeof ACTIVE_STATES)[number];
  timestamp?: string;
  correlationId?: string;
}

export interface ActiveDeploymentsResult {
  deployments: ActiveDeployment[];
  /** How many scopes were asked. */
  scopesChecked: number;
  /** The walk stopped at `maxScopes`: scopes below were not checked. */
  truncated: boolean;
}

export interface ActiveDeploymentsOptions {
  cfg: ArmConfig;
  /** At most this many scopes are checked (default 2000). */
  maxScopes?: number;
  /** Requests in flight (default 8). */
  concurrency?: number;
  /**
   * Also look in every group, subscription and resource group below the scope (default true).
   * The reconciler asks only for the scopes a stack deploys to: walking a tenant root each run costs minutes.
   */
  descend?: boolean;
}

export class ArmListError extends Error {
  constructor(readonly path: string, readonly status: number, detail: string) {
    super(`GET ${path}: ${status} ${detail}`);
    this.name = 'ArmListError';
  }
}

/** Every item of an ARM list, following nextLink; a 404 is an error the caller may forgive. */
async function listAll(path: string, apiVersion: string, cfg: ArmConfig, query?: Record<string, string>, max = Infinity): Promise<{ items: any[]; more: boolean }> {
  const items: any[] = [];
  let next: string | undefined = path;
  let first = true;
  while (next) {
    const res: { status: number; body: any } = await armRequest('GET', next, { apiVersion, cfg, ...(first && query ? { query } : {}) });
    if (res.status !== 200) {
      const err = res.body?.error;
      throw new ArmListError(path, res.status, err ? `${err.code}: ${err.message}` : String(res.body ?? '').slice(0, 200));
    }
    for (const v of res.body?.value ?? []) {
      if (items.length >= max) return { items, more: true };
      items.push(v);
    }
    next = typeof res.body?.nextLink === 'string' && res.body.nextLink ? res.body.nextLink : undefined;
    first = false;
  }
  return { items, more: false };
}

/** The scope itself, then the groups and subscriptions below it, then their resource groups. */
async function scopesUnder(scope: string, opts: ActiveDeploymentsOptions, max: number): Promise<{ scopes: string[]; truncated: boolean }> {
  const s = policyScope(scope);
  const root = scope.replace(/\/+$/, '');
  if (s.kind === 'resourceGroup') return { scopes: [root], truncated: false };
  const scopes = [root];
  let subscriptions = [root];
  if (s.kind === 'managementGroup') {
    const path = `/providers/Microsoft.Management/managementGroups/${encodeURIComponent(s.name)}/descendants`;
    const { items, more } = await listAll(path, GROUPS_API, opts.cfg, undefined, max);
    for (const d of items) if (/managementGroups$/i.test(String(d.type))) scopes.push(String(d.id));
    subscriptions = items.filter((d) => /subscriptions$/i.test(String(d.type))).map((d) => `/subscriptions/${d.name}`);
    scopes.push(...subscriptions);
    if (more || scopes.length >= max) return { scopes: scopes.slice(0, max), truncated: true };
  }
  const groups = await mapLimit(subscriptions, opts.concurrency ?? 8, async (sub) => {
    try {
      return (await listAll(`${sub}/resourcegroups`, RESOURCE_GROUPS_API, opts.cfg, undefined, max)).items.map((g) => String(g.id));
    } catch (e) {
      if (e instanceof ArmListError && e.status === 404) return []; // gone while we walked
      throw e;
    }
  });
  for (const g of groups.flat()) {
    if (scopes.length >= max) return { scopes, truncated: true };
    scopes.push(g);
  }
  return { scopes, truncated: false };
}

/** Deployments Running or Accepted at or under `scope` (a management group, subscription or resource group id). */
export async function activeDeployments(scope: string, opts: ActiveDeploymentsOptions): Promise<ActiveDeploymentsResult> {
  const max = opts.maxScopes ?? 2000;
  const { scopes, truncated } = opts.descend === false ? { scopes: [scope.replace(/\/+$/, '')], truncated: false } : await scopesUnder(scope, opts, max);
  const pairs = scopes.flatMap((s) => ACTIVE_STATES.map((state) => ({ s, state })));
  const found = await mapLimit(pairs, opts.concurrency ?? 8, async ({ s, state }) => {
    try {
      // ARM filters a deployment list on one provisioningState at a time.
      const { items } = await listAll(`${s}/providers/Microsoft.Resources/deployments`, DEPLOYMENTS_API, opts.cfg, { $filter: `provisioningState eq '${state}'` });
      return items.map((d): ActiveDeployment => ({
        id: String(d.id), name: String(d.name), scope: s, provisioningState: state,
        ...(d.properties?.timestamp ? { timestamp: String(d.properties.timestamp) } : {}),
        ...(d.properties?.correlationId ? { correlationId: String(d.properties.correlationId) } : {}),
      }));
    } catch (e) {
      // A resource group deleted since it was listed has no deployments; the asked scope must exist.
      if (e instanceof ArmListError && e.status === 404 && s !== scopes[0]) return [];
      throw e;
    }
  });
  const seen = new Set<string>();
  const deployments = found.flat().filter((d) => !seen.has(d.id.toLowerCase()) && seen.add(d.id.toLowerCase()));
  return { deployments, scopesChecked: scopes.length, truncated };
}

// ARM deployments (Microsoft.Resources/deployments) at management group, subscription and resource
// group scope: list (with ARM's `$filter=provisioningState eq '<state>'`) and get. Nothing deploys
// templates here: a deployment is started and finished only through the side door, so a test can
// hold one Running while Nexus looks, and DINE remediations leave a Succeeded one behind.
import { randomUUID } from 'node:crypto';
import { ArmError, badRequest } from './errors.ts';
import { key, sameType, MG_TYPE, SUB_TYPE, RG_TYPE } from './arm-ids.ts';
import { Sidecar } from './sidecar.ts';
import type { Body, Tenant } from './tenant.ts';

export const DEPLOYMENT_TYPE = 'Microsoft.Resources/deployments';
const PATH = /^(.*)\/providers\/Microsoft\.Resources\/deployments(?:\/([^/]+))?\/?$/i;
const PAGE_SIZE = 100;

export const RUNNING_STATES = ['Running', 'Accepted'] as const;
export const FINAL_STATES = ['Succeeded', 'Failed', 'Canceled'] as const;
export type DeploymentState = (typeof RUNNING_STATES)[number] | (typeof FINAL_STATES)[number];

export interface DeploymentRecord {
  id: string;
  scope: string;
  name: string;
  provisioningState: DeploymentState;
  correlationId: string;
  startedBy: string;
  startedAt: string;
  finishedAt?: string;
  location?: string;
}

export function isDeploymentsPath(path: string): boolean {
  return /\/providers\/Microsoft\.Resources\/deployments(\/|$)/i.test(path);
}

/** The deployments of the sandbox, keyed by lowercased id; kept beside the tenant's data file. */
export class Deployments {
  private readonly byId: Map<string, DeploymentRecord>;
  private readonly file: Sidecar<DeploymentRecord[]>;

  constructor(dataFile?: string) {
    this.file = new Sidecar(dataFile, 'deployments');
    this.byId = new Map(this.file.load([]).map((d) => [key(d.id), d]));
  }

  get(id: string): DeploymentRecord | undefined {
    return this.byId.get(key(id));
  }

  at(scope: string): DeploymentRecord[] {
    const s = key(scope);
    return [...this.byId.values()].filter((d) => key(d.scope) === s);
  }

  put(d: DeploymentRecord) {
    this.byId.set(key(d.id), d);
    this.file.save([...this.byId.values()]);
  }
}

/** A management group, subscription or resource group that exists, with its id as stored. */
export function deploymentScope(t: Tenant, scope: string, field = 'scope'): string {
  const s = scope.replace(/\/+$/, '');
  const r = t.get(s);
  if (!r || !(sameType(r.type, MG_TYPE) || sameType(r.type, SUB_TYPE) || sameType(r.type, RG_TYPE))) {
    throw new ArmError(404, 'ScopeNotFound', `${field} '${scope}' is not a management group, subscription or resource group in the sandbox.`);
  }
  return r.id;
}

export function startDeployment(t: Tenant, store: Deployments, input: {
  scope: string; name: string; state?: 'Running' | 'Accepted'; correlationId?: string; location?: string;
}, startedBy: string): Body {
  const scope = deploymentScope(t, input.scope);
  const id = `${scope}/providers/${DEPLOYMENT_TYPE}/${input.name}`;
  const existing = store.get(id);
  if (existing && isRunning(existing)) {
    throw new ArmError(409, 'DeploymentActive', `The deployment '${input.name}' at '${scope}' is already ${existing.provisioningState}.`);
  }
  const d: DeploymentRecord = {
    id, scope, name: input.name, provisioningState: input.state ?? 'Running',
    correlationId: input.correlationId ?? randomUUID(), startedBy, startedAt: new Date().toISOString(),
    ...(input.location ? { location: input.location } : {}),
  };
  store.put(d);
  return presentDeployment(d);
}

export function finishDeployment(t: Tenant, store: Deployments, input: { scope: string; name: string; state?: (typeof FINAL_STATES)[number] }): Body {
  const scope = deploymentScope(t, input.scope);
  const d = store.get(`${scope}/providers/${DEPLOYMENT_TYPE}/${input.name}`);
  if (!d) throw new ArmError(404, 'DeploymentNotFound', `Deployment '${input.name}' could not be found at '${scope}'.`);
  if (!isRunning(d)) throw new ArmError(409, 'DeploymentNotActive', `The deployment '${input.name}' at '${scope}' already finished (${d.provisioningState}).`);
  const done: DeploymentRecord = { ...d, provisioningState: input.state ?? 'Succeeded', finishedAt: new Date().toISOString() };
  store.put(done);
  return presentDeployment(done);
}

/** A deployment that already finished (what a DeployIfNotExists remediation leaves behind). */
export function recordFinishedDeployment(store: Deployments, scope: string, name: string, correlationId: string, startedBy: string,
  state: (typeof FINAL_STATES)[number] = 'Succeeded'): DeploymentRecord {
  const now = new Date().toISOString();
  const d: DeploymentRecord = {
    id: `${scope}/providers/${DEPLOYMENT_TYPE}/${name}`, scope, name, provisioningState: state,
    correlationId, startedBy, startedAt: now, finishedAt: now,
  };
  store.put(d);
  return d;
}

function isRunning(d: DeploymentRecord): boolean {
  return (RUNNING_STATES as readonly string[]).includes(d.provisioningState);
}

/** ARM's DeploymentExtended. */
export function presentDeployment(d: DeploymentRecord): Body {
  const end = d.finishedAt ? Date.parse(d.finishedAt) : Date.now();
  const seconds = Math.max(0, end - Date.parse(d.startedAt)) / 1000;
  return {
    id: d.id, name: d.name, type: DEPLOYMENT_TYPE,
    ...(d.location ? { location: d.location } : {}),
    properties: {
      provisioningState: d.provisioningState,
      correlationId: d.correlationId,
      timestamp: d.finishedAt ?? d.startedAt,
      duration: `PT${seconds.toFixed(3)}S`,
      mode: 'Incremental',
      parameters: {},
      outputs: {},
      providers: [],
      dependencies: [],
    },
  };
}

export function handleDeployments(t: Tenant, store: Deployments, method: string, path: string, q: URLSearchParams, baseUrl: string): { status: number; body?: unknown } {
  const m = PATH.exec(path);
  if (!m) throw badRequest('InvalidDeploymentRequest', `The deployments path '${path}' is not supported by the sandbox (list or get a deployment).`);
  const [, rawScope, name] = m;
  if (method !== 'GET') {
    throw new ArmError(405, 'MethodNotAllowed', `The sandbox does not run templates: ${method} on deployments is not supported (start and finish them through /_sandbox/deployments).`);
  }
  const scope = deploymentScope(t, rawScope || '/');
  if (name) {
    const d = store.get(`${scope}/providers/${DEPLOYMENT_TYPE}/${decodeURIComponent(name)}`);
    if (!d) throw new ArmError(404, 'DeploymentNotFound', `Deployment '${name}' could not be found.`);
    return { status: 200, body: presentDeployment(d) };
  }
  let items = store.at(scope);
  const filter = q.get('$filter');
  if (filter) {
    // ARM filters a deployment list on provisioningState only, with eq.
    const f = /^\s*provisioningState\s+eq\s+'([A-Za-z]+)'\s*$/i.exec(filter);
    if (!f) throw badRequest('InvalidFilter', `$filter '${filter}': deployments can be filtered only with provisioningState eq '<state>'.`);
    items = items.filter((d) => d.provisioningState.toLowerCase() === f[1].toLowerCase());
  }
  items.sort((a, b) => (b.finishedAt ?? b.startedAt).localeCompare(a.finishedAt ?? a.startedAt) || a.name.localeCompare(b.name));
  const top = q.get('$top') ? Number(q.get('$top')) : undefined;
  if (top !== undefined && !(Number.isInteger(top) && top > 0)) throw badRequest('InvalidQueryParameter', `$top '${q.get('$top')}' must be a positive integer.`);
  const limit = Math.min(top ?? items.length, items.length);
  const skip = Number(q.get('$skiptoken') ?? 0) || 0;
  const end = Math.min(skip + PAGE_SIZE, limit);
  const body: Body = { value: items.slice(skip, end).map(presentDeployment) };
  if (end < limit) {
    const next = new URLSearchParams(q);
    next.set('$skiptoken', String(end));
    body.nextLink = `${baseUrl}${path}?${next}`;
  }
  return { status: 200, body };
}

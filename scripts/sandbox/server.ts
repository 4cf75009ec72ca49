// The local ARM sandbox: an HTTPS server on loopback that the real Azure SDK clients talk to.
// It serves ARM's resource API, Resource Graph and Policy Insights over one in-memory tenant
// (optionally persisted to a JSON file), plus a side door under /_sandbox for drift and compliance.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ArmError, badRequest } from './errors.ts';
import { Tenant } from './tenant.ts';
import { sandboxCertificate } from './tls.ts';
import { seedBuiltins, defaultBuiltinsDir } from './builtins.ts';
import { handleArm } from './arm-routes.ts';
import { SandboxState, handleSideDoor, DEFAULT_PRINCIPAL } from './side-door.ts';
import { handleResourceGraph } from './resource-graph.ts';
import { handlePolicyInsights, isPolicyInsightsPath } from './policy-insights.ts';
import { handleRemediations, isRemediationsPath } from './remediations.ts';
import { handleDeployments, isDeploymentsPath } from './deployments.ts';
import { handleDescendants, isDescendantsPath } from './mg-descendants.ts';
import { GraphQuota, type GraphQuotaOptions } from './graph-quota.ts';
import { LogAnalyticsError, handleLogAnalytics, workspaceIdFor } from './log-analytics.ts';
import { handleHistorySideDoor } from './side-door-history.ts';

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** JSON file that keeps the tenant across restarts (the TLS certificate is kept beside it). */
  dataFile?: string;
  /** Folder of built-in policy definitions to seed; false for none. */
  builtinPolicies?: string | false;
  /** Subscriptions to create at start if missing (under the tenant root group unless a group is named). */
  subscriptions?: { subscriptionId: string; displayName?: string; managementGroupId?: string }[];
  /** Resource Graph's per-token request quota (default 1000 per 5 s); also settable later on the handle. */
  resourceGraphQuota?: Partial<GraphQuotaOptions>;
}

export interface SandboxHandle {
  url: string;
  caFile: string;
  token: string;
  tenantId: string;
  /** What a process needs to talk to the sandbox (NODE_EXTRA_CA_CERTS for child Node processes). */
  env: Record<string, string>;
  state: SandboxState;
  /** Resource Graph throttling: `resourceGraphQuota.set({ limit, windowMs })`. */
  resourceGraphQuota: GraphQuota;
  /** The Activity Log's Log Analytics workspace: LogsQueryClient's `endpoint` and the workspace id. */
  logAnalytics: { endpoint: string; workspaceId: string };
  stop(): Promise<void>;
  /** Lets the process exit while the sandbox runs (tests); connections stop holding it open too. */
  unref(): void;
}

const MAX_BODY = 20 * 1024 * 1024;

export async function startSandbox(opts: SandboxOptions = {}): Promise<SandboxHandle> {
  const tenant = new Tenant(opts.dataFile);
  const builtins = opts.builtinPolicies === false ? undefined : (opts.builtinPolicies ?? defaultBuiltinsDir());
  if (builtins) seedBuiltins(tenant, builtins);
  const state = new SandboxState(tenant);
  const quota = new GraphQuota(opts.resourceGraphQuota);
  for (const s of opts.subscriptions ?? []) {
    if (!tenant.get(`/subscriptions/${s.subscriptionId}`)) state.addSubscription(s, 'sandbox-seed');
  }
  const token = tenant.token ?? state.issueToken(DEFAULT_PRINCIPAL);
  state.tokens.set(token, DEFAULT_PRINCIPAL);
  if (opts.dataFile) {
    tenant.token = token;
    tenant.save();
  }
  const tls = sandboxCertificate(opts.dataFile ? join(dirname(opts.dataFile), 'sandbox-tls') : undefined);
  const host = opts.host ?? '127.0.0.1';
  let baseUrl = '';

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    void serve({ state, quota }, req, res, () => baseUrl);
  });
  let unrefd = false;
  server.on('connection', (socket) => {
    if (unrefd) socket.unref();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  baseUrl = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const logAnalytics = { endpoint: `${baseUrl}/v1`, workspaceId: workspaceIdFor(tenant.tenantId) };
  return {
    url: baseUrl,
    caFile: tls.certFile,
    token,
    tenantId: tenant.tenantId,
    state,
    resourceGraphQuota: quota,
    logAnalytics,
    env: {
      NEXUS_ARM_ENDPOINT: baseUrl,
      NEXUS_ARM_TOKEN: token,
      NEXUS_ARM_CA_FILE: tls.certFile,
      NEXUS_ARM_TENANT_ID: tenant.tenantId,
      NODE_EXTRA_CA_CERTS: tls.certFile,
      NEXUS_LOG_ANALYTICS_ENDPOINT: logAnalytics.endpoint,
      NEXUS_ACTIVITY_LOG_WORKSPACE_ID: logAnalytics.workspaceId,
    },
    unref: () => {
      unrefd = true;
      server.unref();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        tenant.save();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Served {
  state: SandboxState;
  quota: GraphQuota;
}

/** ARM's correlation id: the caller's x-ms-correlation-request-id when it sent a sensible one, else a new one. */
function correlationIdOf(req: IncomingMessage): string {
  const h = req.headers['x-ms-correlation-request-id'];
  const v = Array.isArray(h) ? h[0] : h;
  return v && /^[A-Za-z0-9._:-]{1,128}$/.test(v) ? v : randomUUID();
}

async function serve({ state, quota }: Served, req: IncomingMessage, res: ServerResponse, baseUrl: () => string) {
  const url = new URL(req.url ?? '/', 'https://sandbox');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  let reply: { status: number; body?: unknown };
  const headers: Record<string, string> = { 'x-ms-request-id': randomUUID() };
  try {
    if (path === '/_sandbox/health') {
      reply = { status: 200, body: { status: 'ok' } };
    } else {
      const { principal, token } = authenticate(state, req);
      const body = await readJson(req);
      if (path.startsWith('/_sandbox/')) {
        reply = handleHistorySideDoor(state.tenant, quota, method, path, body) ?? handleSideDoor(state, method, path, url.searchParams, body);
      } else if (/^\/v1\//i.test(path)) {
        reply = handleLogAnalytics(state.tenant, method, path, body);
      } else {
        const correlationId = correlationIdOf(req);
        headers['x-ms-correlation-request-id'] = correlationId;
        if (!url.searchParams.get('api-version')) {
          throw badRequest('MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
        }
        const actor = { changedBy: principal, changedByType: state.principalTypes.get(principal) ?? 'Application', clientType: 'ARM API', correlationId };
        if (/^\/providers\/Microsoft\.ResourceGraph\/resources\/?$/i.test(path)) {
          const q = quota.take(token);
          Object.assign(headers, q.headers);
          if (!q.allowed) {
            throw new ArmError(429, 'RateLimiting', `Please provide below info when asking for support: the Resource Graph quota of ${quota.options.limit} requests per ${quota.options.windowMs} ms is used up; retry after ${q.headers['retry-after']} s.`);
          }
          if (method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', 'Resource Graph queries are POST requests.');
          reply = handleResourceGraph(state.tenant, body);
        } else if (isPolicyInsightsPath(path)) {
          reply = handlePolicyInsights(state.tenant, method, path, url.searchParams, baseUrl());
        } else if (isRemediationsPath(path)) {
          reply = handleRemediations(state.tenant, state.remediations, method, path, url.searchParams, body, principal, baseUrl());
        } else if (isDeploymentsPath(path)) {
          reply = handleDeployments(state.tenant, state.deployments, method, path, url.searchParams, baseUrl());
        } else if (isDescendantsPath(path)) {
          reply = handleDescendants(state.tenant, method, path, url.searchParams, baseUrl());
        } else {
          reply = handleArm(state.tenant, method, path, url.searchParams, body, actor, baseUrl());
        }
      }
    }
  } catch (e) {
    reply = e instanceof ArmError || e instanceof LogAnalyticsError
      ? { status: e.status, body: e.body() }
      : { status: 500, body: { error: { code: 'InternalServerError', message: `The sandbox failed: ${(e as Error).message}` } } };
  }
  if (reply.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
  } else {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  }
}

function authenticate(state: SandboxState, req: IncomingMessage): { principal: string; token: string } {
  const header = req.headers.authorization;
  if (!header) throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
  const m = /^Bearer\s+(.+)$/i.exec(header);
  const token = m ? m[1].trim() : '';
  const principal = token ? state.tokens.get(token) : undefined;
  if (!principal) throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
  return { principal, token };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ArmError(413, 'RequestEntityTooLarge', `The request body is larger than ${MAX_BODY} bytes.`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest('InvalidRequestContent', `The request content was invalid and could not be deserialized: ${(e as Error).message}`);
  }
}

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

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** JSON file that keeps the tenant across restarts (the TLS certificate is kept beside it). */
  dataFile?: string;
  /** Folder of built-in policy definitions to seed; false for none. */
  builtinPolicies?: string | false;
  /** Subscriptions to create at start if missing (under the tenant root group unless a group is named). */
  subscriptions?: { subscriptionId: string; displayName?: string; managementGroupId?: string }[];
}

export interface SandboxHandle {
  url: string;
  caFile: string;
  token: string;
  tenantId: string;
  /** What a process needs to talk to the sandbox (NODE_EXTRA_CA_CERTS for child Node processes). */
  env: Record<string, string>;
  state: SandboxState;
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
    void serve(state, req, res, () => baseUrl);
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
  return {
    url: baseUrl,
    caFile: tls.certFile,
    token,
    tenantId: tenant.tenantId,
    state,
    env: {
      NEXUS_ARM_ENDPOINT: baseUrl,
      NEXUS_ARM_TOKEN: token,
      NEXUS_ARM_CA_FILE: tls.certFile,
      NEXUS_ARM_TENANT_ID: tenant.tenantId,
      NODE_EXTRA_CA_CERTS: tls.certFile,
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

async function serve(state: SandboxState, req: IncomingMessage, res: ServerResponse, baseUrl: () => string) {
  const url = new URL(req.url ?? '/', 'https://sandbox');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  let reply: { status: number; body?: unknown };
  try {
    if (path === '/_sandbox/health') {
      reply = { status: 200, body: { status: 'ok' } };
    } else {
      const principal = authenticate(state, req);
      const body = await readJson(req);
      if (path.startsWith('/_sandbox/')) {
        reply = handleSideDoor(state, method, path, url.searchParams, body);
      } else {
        if (!url.searchParams.get('api-version')) {
          throw badRequest('MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
        }
        const actor = { changedBy: principal, changedByType: 'Application' as const, clientType: 'ARM API' };
        if (/^\/providers\/Microsoft\.ResourceGraph\/resources\/?$/i.test(path)) {
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
    reply = e instanceof ArmError
      ? { status: e.status, body: e.body() }
      : { status: 500, body: { error: { code: 'InternalServerError', message: `The sandbox failed: ${(e as Error).message}` } } };
  }
  const headers: Record<string, string> = { 'x-ms-request-id': randomUUID() };
  if (reply.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
  } else {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  }
}

function authenticate(state: SandboxState, req: IncomingMessage): string {
  const header = req.headers.authorization;
  if (!header) throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
  const m = /^Bearer\s+(.+)$/i.exec(header);
  const principal = m ? state.tokens.get(m[1].trim()) : undefined;
  if (!principal) throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
  return principal;
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

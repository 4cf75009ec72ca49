// The ARM adapter: endpoint, credential and TLS trust for every Azure management-plane client.
// Production: https://management.azure.com with DefaultAzureCredential. Locally and in tests:
// NEXUS_ARM_ENDPOINT (the ARM sandbox), its bearer token NEXUS_ARM_TOKEN and its self-signed
// certificate NEXUS_ARM_CA_FILE, trusted per client (never process-wide).
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import {
  createPipelineFromOptions,
  createDefaultHttpClient,
  createPipelineRequest,
  createHttpHeaders,
  bearerTokenAuthenticationPolicy,
  type Pipeline,
  type HttpClient,
} from '@azure/core-rest-pipeline';
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { PolicyInsightsClient } from '@azure/arm-policyinsights';
import type { ArmSettings } from '../runtime/config.ts';

export const PUBLIC_ARM_ENDPOINT = 'https://management.azure.com';
/** The token audience is ARM's, whichever endpoint serves it. */
export const ARM_SCOPE = 'https://management.azure.com/.default';

export interface ArmConfig {
  endpoint: string;
  /** A fixed bearer token (the sandbox's); when absent DefaultAzureCredential is used. */
  token?: string;
  /** Extra CA certificate (PEM) to trust for this endpoint. */
  ca?: string;
  caFile?: string;
  /** The credential and the request pipeline of this configuration, made on first use and then shared. */
  credential(): TokenCredential;
  pipeline(): { pipeline: Pipeline; client: HttpClient };
}

/** The ARM adapter of the configuration's `arm` section (functions/runtime/config.ts); reads the CA file. */
export function armConfig(settings: ArmSettings): ArmConfig {
  const endpoint = (settings.endpoint || PUBLIC_ARM_ENDPOINT).replace(/\/+$/, '');
  const caFile = settings.caFile || undefined;
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (e) {
      throw new Error(`NEXUS_ARM_CA_FILE '${caFile}' cannot be read: ${(e as Error).message}`);
    }
  }
  const token = settings.token || undefined;
  let credential: TokenCredential | undefined;
  let shared: { pipeline: Pipeline; client: HttpClient } | undefined;
  const cfg: ArmConfig = {
    endpoint, token, ca, caFile,
    credential: () => (credential ??= token ? new StaticTokenCredential(token) : new DefaultAzureCredential()),
    pipeline: () => {
      if (!shared) {
        // One keep-alive agent with the extra CA: TLS options per request would build a new secure
        // context and connection for every call (thousands when drift reads live bodies).
        const tls = tlsOptions(cfg);
        const agent = tls ? new https.Agent({ keepAlive: true, secureContext: createSecureContext(tls) }) : undefined;
        const pipeline = createPipelineFromOptions({ ...(agent ? { agent } : {}), retryOptions: { maxRetries: 3 } });
        pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: cfg.credential(), scopes: ARM_SCOPE }));
        shared = { pipeline, client: createDefaultHttpClient() };
      }
      return shared;
    },
  };
  return cfg;
}

/** A credential that always hands out one fixed token (the sandbox issues long-lived ones). */
class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export function armCredential(cfg: ArmConfig): TokenCredential {
  return cfg.credential();
}

/**
 * TLS settings for @azure/core-rest-pipeline clients. Setting `ca` replaces Node's bundled roots,
 * so the extra certificate is added to them: a CA file never breaks trust in public endpoints.
 */
export function tlsOptions(cfg: Pick<ArmConfig, 'ca'>) {
  return cfg.ca ? { ca: [...rootCertificates, cfg.ca] } : undefined;
}

export function resourceGraphClient(cfg: ArmConfig): ResourceGraphClient {
  // This client is built on @azure/ms-rest-js, which takes agents rather than TLS options.
  const agentSettings = cfg.ca
    ? { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true, ca: [...rootCertificates, cfg.ca] }) }
    : undefined;
  return new ResourceGraphClient(armCredential(cfg), {
    // Scope: ms-rest-js asks for ARM's audience unless baseUri is another known ARM cloud.
    baseUri: cfg.endpoint,
    ...(agentSettings ? { agentSettings } : {}),
  });
}

export function policyInsightsClient(cfg: ArmConfig): PolicyInsightsClient {
  return new PolicyInsightsClient(armCredential(cfg), {
    endpoint: cfg.endpoint,
    $host: cfg.endpoint,
    credentialScopes: [ARM_SCOPE],
    tlsOptions: tlsOptions(cfg),
  });
}


export interface ArmResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, string>;
}

/**
 * One ARM REST call: `path` is an ARM id or provider path (starting with '/'), or a full URL on the
 * same endpoint (a nextLink). The body is JSON; error statuses are returned, not thrown.
 */
export async function armRequest<T = any>(
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST',
  path: string,
  opts: { apiVersion: string; body?: unknown; query?: Record<string, string>; cfg: ArmConfig },
): Promise<ArmResponse<T>> {
  const cfg = opts.cfg;
  const url = new URL(/^https:\/\//i.test(path) ? path : `${cfg.endpoint}${path}`);
  if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', opts.apiVersion);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const { pipeline, client } = cfg.pipeline();
  const request = createPipelineRequest({
    url: url.toString(),
    method,
    headers: createHttpHeaders({ accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) }),
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const res = await pipeline.sendRequest(client, request);
  let body: any = res.bodyAsText ?? undefined;
  if (body) {
    try {
      body = JSON.parse(body);
    } catch {
      // Not JSON (a proxy's error page): keep the text so the caller can show it.
    }
  }
  return { status: res.status, body, headers: res.headers.toJSON() };
}

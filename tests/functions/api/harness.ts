// One API under test: real Azurite tables (fresh names per harness), the real catalog service,
// the local issuer signing real tokens, and the app answering in-process (app.request).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { CatalogService, type CatalogConfig } from '../../../functions/catalog/service.ts';
import { createApp, type ApiApp } from '../../../functions/api/app.ts';
import type { ApiDeps, InboxPort, WebhookSecrets } from '../../../functions/api/deps.ts';
import { localIssuer, tokenVerifier, type IdentityConfig, type Role } from '../../../functions/platform/identity.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

export const AUDIENCE = 'api://nexus-test';

export interface Harness {
  app: ApiApp;
  deps: ApiDeps;
  catalog: CatalogService;
  identity: IdentityConfig;
  env: Record<string, string>;
  token(user: string, roles: Role[], groups?: string[], extra?: { expiresIn?: number | string; audience?: string; email?: string }): Promise<string>;
  call(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export async function harness(opts: { inbox?: InboxPort; webhookSecrets?: WebhookSecrets; tables?: { entities: string; relations: string }; catalog?: Pick<CatalogConfig, 'journal' | 'now'> } = {}): Promise<Harness> {
  const az = await azurite();
  const storage = storageConfig({ connectionString: az.connectionString });
  const tables = opts.tables ?? { entities: uniqueName('cat'), relations: uniqueName('rel') };
  const catalog = await CatalogService.open({ storage, tables, ...opts.catalog });
  const env = {
    NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-api-')),
    NEXUS_LOCAL_ISSUER: '1',
    NEXUS_API_AUDIENCE: AUDIENCE,
    NEXUS_STORAGE_CONNECTION_STRING: az.connectionString,
  };
  const identity = loadConfig(env).identity;
  const issuer = await localIssuer(identity);
  const deps: ApiDeps = {
    catalog,
    inbox: opts.inbox,
    verify: tokenVerifier(identity),
    localIssuer: issuer,
    webhookSecrets: opts.webhookSecrets ?? {},
  };
  const app = createApp(deps);
  return {
    app, deps, catalog, identity, env,
    token: (user, roles, groups = [], extra = {}) => issuer.sign({ user, roles, groups, ...extra }),
    call: (method, path, o = {}) => {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      return Promise.resolve(app.request(path, { method, headers, body }));
    },
  };
}

export function service(name: string, owner: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'nexus/v1', kind: 'Service',
    metadata: { name, description: `the ${name} service`, tags: ['java'] },
    spec: { owner, lifecycle: 'production', ...extra },
  };
}

export function team(name: string, members: string[] = []) {
  return { apiVersion: 'nexus/v1', kind: 'Team', metadata: { name }, spec: { members } };
}

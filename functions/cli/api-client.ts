// The CLI as a client of the running Nexus API: its URL and credentials from the configuration, and
// problem answers turned into one readable line. For commands whose data only the server can make
// (the compliance view) or that show what the server shows (drift reports), with its role checks.
import { userInfo } from 'node:os';
import { signDevToken } from '../platform/identity.ts';
import type { NexusConfig } from '../runtime/config.ts';
import { UserError } from './errors.ts';

/** NEXUS_API_TOKEN when set; otherwise, on the local system, a short-lived token from the local issuer. */
export async function apiToken(config: NexusConfig): Promise<string> {
  if (config.cli.apiToken) return config.cli.apiToken;
  const cfg = config.identity;
  if (!cfg.localIssuer) {
    throw new UserError('no credentials for the API: set NEXUS_API_TOKEN (an Entra access token for the Nexus API)');
  }
  return signDevToken({ user: userInfo().username || 'nexus-cli', roles: ['Admin'], expiresIn: '10m' }, cfg);
}

export interface ProblemAnswer {
  status: number;
  detail?: string;
  title?: string;
  field?: string;
  errors?: Array<{ field: string; message: string }>;
}

export type ApiAnswer<T> = { ok: true; status: number; body: T } | { ok: false; status: number; problem: ProblemAnswer };

/** One line for a problem: its detail, and every field at fault when there are several. */
export function problemLine(p: ProblemAnswer): string {
  const more = p.errors && p.errors.length > 1 ? ` (${p.errors.slice(0, 10).map((e) => `${e.field}: ${e.message}`).join('; ')})` : '';
  return `${p.detail ?? p.title ?? `HTTP ${p.status}`}${more}`;
}

export interface ApiClient {
  api: string;
  get<T>(path: string): Promise<ApiAnswer<T>>;
}

/** A client of the API at `api` (default NEXUS_API_URL), signed in as the configuration says. */
export async function apiClient(config: NexusConfig, api?: string): Promise<ApiClient> {
  const base = (api ?? config.cli.apiUrl).replace(/\/+$/, '');
  const token = await apiToken(config);
  return {
    api: base,
    async get<T>(path: string): Promise<ApiAnswer<T>> {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, { headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
      } catch (err) {
        const c = (err as { cause?: { code?: string; message?: string } }).cause;
        const cause = c?.code ?? c?.message ?? (err as Error).message;
        throw new UserError(`cannot reach the Nexus API at ${base} (${cause}); start it with \`npm run up\` or pass --api`);
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (res.ok && body !== undefined) return { ok: true, status: res.status, body: body as T };
      const problem = body && typeof body === 'object' ? (body as ProblemAnswer) : { status: res.status, detail: text.trim().slice(0, 200) || res.statusText };
      return { ok: false, status: res.status, problem: { ...problem, status: res.status } };
    },
  };
}

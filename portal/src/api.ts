// Every call the portal makes to the Nexus API: same origin, bearer token from the session,
// and problem+json answers turned into one readable message.
import { clearToken, getToken } from './session.ts';
import type { ComplianceView, DriftReport } from './api-types.ts';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called when the API refuses the token, so the app can show the sign-in form again. */
let onUnauthorized: (message: string) => void = () => undefined;
export function whenUnauthorized(fn: (message: string) => void): void {
  onUnauthorized = fn;
}

async function problemMessage(res: Response): Promise<{ message: string; field?: string }> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as { detail?: string; title?: string; field?: string; errors?: { field: string; message: string }[] };
    const detail = p.detail ?? p.title ?? `HTTP ${res.status}`;
    const more = p.errors && p.errors.length > 1 ? ` (${p.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})` : '';
    return { message: detail + more, field: p.field };
  } catch {
    return { message: text.trim() || `HTTP ${res.status} ${res.statusText}` };
  }
}

/** `candidate` checks a token that is not the session's yet (sign-in): its refusal ends no session. */
export async function api<T>(method: string, path: string, body?: unknown, candidate?: string): Promise<T> {
  const token = candidate ?? getToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const { message, field } = await problemMessage(res);
    if (res.status === 401 && candidate === undefined) {
      clearToken();
      onUnauthorized(message);
    }
    throw new ApiError(res.status, message, field);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body);

/** Path segments are user data: always encoded. */
export function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}

/** A stack's latest drift report, or the one made in `run`. */
export const driftReport = (stack: string, run?: string) =>
  get<DriftReport>(path`/api/v1/stacks/${stack}/drift` + (run ? `?${new URLSearchParams({ run })}` : ''));

/** The compliance view of every management group and subscription, or of one. */
export const complianceView = (scope?: string) =>
  get<ComplianceView>(`/api/v1/compliance${scope ? `?${new URLSearchParams({ scope })}` : ''}`);

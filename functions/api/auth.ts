// Authentication and authorisation for the API: who is calling, and may they do this.
import type { MiddlewareHandler } from 'hono';
import { AuthError, type Principal, type Role, type TokenVerifier } from '../platform/identity.ts';
import { ProblemError } from './problem.ts';
import { normalizeRef } from '../catalog/refs.ts';

export type { Principal, Role } from '../platform/identity.ts';

export type AuthEnv = { Variables: { principal: Principal } };

const CHALLENGE = 'Bearer realm="nexus"';

/**
 * The Authorization header straight from Node's request when the app runs on @hono/node-server
 * (which hands it over as `c.env.incoming`): reading it through the web Request would first copy
 * every header into a Headers object, on every request. Elsewhere (Azure Functions) undefined.
 */
function rawAuthorization(env: unknown): string | undefined {
  const value = (env as { incoming?: { headers?: Record<string, unknown> } } | undefined)?.incoming?.headers?.authorization;
  return typeof value === 'string' ? value : undefined;
}

/** Verifies the bearer token and sets `c.get('principal')`; 401 problem otherwise. */
export function authenticate(verify: TokenVerifier): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = rawAuthorization(c.env) ?? c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      throw new ProblemError(401, 'a bearer token is required (Authorization: Bearer <token>)', {
        field: 'header.authorization',
        headers: { 'www-authenticate': CHALLENGE },
      });
    }
    try {
      c.set('principal', await verify(m[1]));
    } catch (err) {
      const reason = err instanceof AuthError ? err.reason : 'the token could not be verified';
      throw new ProblemError(401, reason, {
        field: 'header.authorization',
        headers: { 'www-authenticate': `${CHALLENGE}, error="invalid_token", error_description="${reason.replace(/"/g, "'")}"` },
      });
    }
    await next();
  };
}

export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.includes('Admin') || roles.some((r) => principal.roles.includes(r));
}

/** 403 unless the principal holds one of the roles (Admin holds all). */
export function requireRole(...roles: Role[]): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new ProblemError(401, 'not signed in');
    if (!hasRole(principal, ...roles)) {
      throw new ProblemError(403, `this needs one of the roles ${roles.join(', ')}; you have ${principal.roles.join(', ') || 'none'}`);
    }
    await next();
  };
}

export interface Rights {
  read: boolean;
  write: boolean;
  /** Delete, or hand the entity to another owner. */
  admin: boolean;
}

/** An owner reference in canonical form (`team:default/payments`); an owner without a kind is a team. */
export function ownerKey(owner: string): string | undefined {
  try {
    return normalizeRef(owner, { kind: 'team' });
  } catch {
    return undefined;
  }
}

/** Who the principal is in the catalog (CatalogService.identify): its User, if one is found, and its teams. */
export interface Membership {
  user?: string;
  teams: string[];
}

/**
 * Whether the principal answers for `owner`: a user owner must be the principal's own User (found
 * by a stable identity, never by the local part of an e-mail); a team owner must be one of its teams.
 */
export function ownedBy(owner: string | undefined, principal: Principal, me: Membership = { teams: [] }): boolean {
  const key = owner ? ownerKey(owner) : undefined;
  if (!key) return false;
  if (key.startsWith('user:')) return me.user !== undefined && ownerKey(me.user) === key;
  return me.teams.some((t) => ownerKey(t) === key);
}

/** Everyone signed in reads; owners (and their team leads) write; Admin does everything. */
export function rightsFor(principal: Principal, owner: string | undefined, me: Membership = { teams: [] }): Rights {
  if (principal.roles.includes('Admin')) return { read: true, write: true, admin: true };
  const owns = ownedBy(owner, principal, me);
  return { read: true, write: owns, admin: owns && principal.roles.includes('TeamLead') };
}

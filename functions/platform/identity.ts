// Who is calling: verifies bearer tokens and turns their claims into a Principal.
// Production tokens come from Entra ID (checked against the tenant's JWKS); locally Nexus runs its
// own issuer (NEXUS_LOCAL_ISSUER=1) whose key pair lives under NEXUS_HOME, so tests and
// `npm run up` sign and verify real JWTs through the same code path.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createLocalJWKSet, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT,
  errors as joseErrors, type JSONWebKeySet, type JWK, type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';

export const ROLES = ['Developer', 'PlatformEngineer', 'TeamLead', 'Admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** Stable id: Entra object id (`oid`), else the token subject. */
  id: string;
  name: string;
  email?: string;
  roles: Role[];
  /** Entra group ids (or, for local tokens, whatever `--groups` gave). */
  groups: string[];
  /**
   * Signed by the local issuer (development and tests): the subject is the user name itself, so
   * the catalog may take it as the User's name. Never set for Entra tokens.
   */
  local?: boolean;
}

/** A token that must be refused; `reason` is safe to show the caller. */
export class AuthError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AuthError';
  }
}

export const LOCAL_ISSUER = 'urn:nexus:local-issuer';
const DEFAULT_AUDIENCE = 'api://nexus';
const ALG = 'ES256';

const roleGroupsSchema = z.partialRecord(z.enum(ROLES), z.array(z.string()));

export interface IdentityConfig {
  tenantId?: string;
  /** Entra authority host; overridable so a local JWKS stand-in can play the tenant in tests. */
  authority: string;
  audience: string;
  localIssuer: boolean;
  home: string;
  roleGroups: Partial<Record<Role, string[]>>;
}

export function identityConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  let roleGroups: Partial<Record<Role, string[]>> = {};
  if (env.NEXUS_ROLE_GROUPS) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.NEXUS_ROLE_GROUPS);
    } catch {
      throw new Error('NEXUS_ROLE_GROUPS is not valid JSON (expected {"Admin":["<group id>"],...})');
    }
    const parsed = roleGroupsSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`NEXUS_ROLE_GROUPS: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    roleGroups = parsed.data;
  }
  return {
    tenantId: env.NEXUS_ENTRA_TENANT_ID || undefined,
    authority: (env.NEXUS_ENTRA_AUTHORITY || 'https://login.microsoftonline.com').replace(/\/+$/, ''),
    audience: env.NEXUS_API_AUDIENCE || DEFAULT_AUDIENCE,
    localIssuer: env.NEXUS_LOCAL_ISSUER === '1',
    home: env.NEXUS_HOME ?? fileURLToPath(new URL('../../.nexus', import.meta.url)),
    roleGroups,
  };
}

// ---------------------------------------------------------------------------------------------
// The local issuer

export interface LocalIssuer {
  issuer: string;
  audience: string;
  /** The public half, as served at /.well-known/jwks.json. */
  jwks(): JSONWebKeySet;
  sign(claims: DevTokenClaims): Promise<string>;
  verifyKey: JWTVerifyGetKey;
}

export interface DevTokenClaims {
  user: string;
  roles: Role[];
  groups?: string[];
  email?: string;
  /** jose duration ('1h') or seconds from now; negative values make expired tokens for tests. */
  expiresIn?: string | number;
  audience?: string;
}

const issuers = new Map<string, Promise<LocalIssuer>>();

/** The local issuer for this NEXUS_HOME: its key pair is created on first use and kept on disk. */
export function localIssuer(cfg: IdentityConfig = identityConfig()): Promise<LocalIssuer> {
  const file = join(cfg.home, 'identity', 'local-issuer.jwk.json');
  const key = `${file}|${cfg.audience}`;
  let found = issuers.get(key);
  if (!found) {
    found = loadIssuer(file, cfg.audience);
    issuers.set(key, found);
    found.catch(() => issuers.delete(key));
  }
  return found;
}

async function loadIssuer(file: string, audience: string): Promise<LocalIssuer> {
  let privateJwk: JWK;
  if (existsSync(file)) {
    privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } else {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    privateJwk = { ...(await exportJWK(privateKey)), alg: ALG, use: 'sig', kid: `nexus-local-${Date.now().toString(36)}` };
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
  }
  const { d: _private, ...publicJwk } = privateJwk;
  const signingKey = await importJWK(privateJwk, ALG);
  const jwks: JSONWebKeySet = { keys: [publicJwk] };
  return {
    issuer: LOCAL_ISSUER,
    audience,
    jwks: () => jwks,
    verifyKey: createLocalJWKSet(jwks),
    async sign(claims) {
      const now = Math.floor(Date.now() / 1000);
      const exp = typeof claims.expiresIn === 'number' ? now + claims.expiresIn : claims.expiresIn ?? '8h';
      return new SignJWT({
        name: claims.user,
        preferred_username: claims.email ?? claims.user,
        ...(claims.email ? { email: claims.email } : {}),
        roles: claims.roles,
        groups: claims.groups ?? [],
      })
        .setProtectedHeader({ alg: ALG, kid: publicJwk.kid, typ: 'JWT' })
        .setIssuer(LOCAL_ISSUER)
        .setAudience(claims.audience ?? audience)
        .setSubject(claims.user)
        .setIssuedAt(typeof claims.expiresIn === 'number' && claims.expiresIn < 0 ? now + claims.expiresIn - 60 : now)
        .setExpirationTime(exp)
        .sign(signingKey);
    },
  };
}

/** Signs a token with the local issuer; refused unless NEXUS_LOCAL_ISSUER=1. */
export async function signDevToken(claims: DevTokenClaims, cfg: IdentityConfig = identityConfig()): Promise<string> {
  if (!cfg.localIssuer) throw new AuthError('the local issuer is off (set NEXUS_LOCAL_ISSUER=1 to sign development tokens)');
  return (await localIssuer(cfg)).sign(claims);
}

// ---------------------------------------------------------------------------------------------
// Verification

const remoteSets = new Map<string, JWTVerifyGetKey>();

function entraKeys(cfg: IdentityConfig): JWTVerifyGetKey {
  const url = `${cfg.authority}/${cfg.tenantId}/discovery/v2.0/keys`;
  let set = remoteSets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, cacheMaxAge: 3_600_000 });
    remoteSets.set(url, set);
  }
  return set;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** A verifier bound to one configuration (read once, so a request never re-parses env). */
export function tokenVerifier(cfg: IdentityConfig = identityConfig()): TokenVerifier {
  const entraIssuer = cfg.tenantId ? `${cfg.authority}/${cfg.tenantId}/v2.0` : undefined;
  // A verified token stays valid until it expires, so the signature check (the costly part of a
  // request) is done once per token: kept at most 5 minutes and never past the token's expiry.
  const verified = new Map<string, { principal: Principal; until: number }>();
  const MAX_CACHED = 10_000;
  const verifyOnce = async (token: string): Promise<Principal> => {
    const hit = verified.get(token);
    if (hit && hit.until > Date.now()) return hit.principal;
    if (hit) verified.delete(token);
    const { principal, exp } = await verifyFully(token);
    if (verified.size >= MAX_CACHED) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal, until: Math.min(exp * 1000, Date.now() + 300_000) });
    return principal;
  };
  const verifyFully = async (token: string): Promise<{ principal: Principal; exp: number }> => {
    let iss: string | undefined;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new AuthError('the bearer token is not a JWT');
    }
    try {
      if (iss === LOCAL_ISSUER) {
        if (!cfg.localIssuer) throw new AuthError('tokens of the local issuer are not accepted here');
        const issuer = await localIssuer(cfg);
        const { payload } = await jwtVerify(token, issuer.verifyKey, { issuer: LOCAL_ISSUER, audience: cfg.audience, algorithms: [ALG], requiredClaims: ['exp'] });
        return { principal: { ...principalFrom(payload, cfg), local: true }, exp: payload.exp! };
      }
      if (!entraIssuer) throw new AuthError('no Entra tenant is configured (NEXUS_ENTRA_TENANT_ID)');
      if (iss !== entraIssuer) throw new AuthError(`unexpected issuer "${iss ?? ''}"`);
      // Entra v2 access tokens carry the application id or its App ID URI as audience: accept either.
      const audience = cfg.audience.split(',').map((a) => a.trim()).filter(Boolean);
      const { payload } = await jwtVerify(token, entraKeys(cfg), { issuer: entraIssuer, audience, algorithms: ['RS256'], requiredClaims: ['exp'] });
      return { principal: principalFrom(payload, cfg), exp: payload.exp! };
    } catch (err) {
      throw toAuthError(err);
    }
  };
  return verifyOnce;
}

let defaultVerifier: { env: string; verify: TokenVerifier } | undefined;

/** Verifies with the configuration in process.env. */
export function verifyToken(token: string): Promise<Principal> {
  const key = [process.env.NEXUS_ENTRA_TENANT_ID, process.env.NEXUS_ENTRA_AUTHORITY, process.env.NEXUS_API_AUDIENCE,
    process.env.NEXUS_LOCAL_ISSUER, process.env.NEXUS_HOME, process.env.NEXUS_ROLE_GROUPS].join('|');
  if (defaultVerifier?.env !== key) defaultVerifier = { env: key, verify: tokenVerifier() };
  return defaultVerifier.verify(token);
}

function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWTExpired) return new AuthError('the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new AuthError(`the token's "${err.claim}" claim is not accepted`);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('the token signature does not verify');
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new AuthError('the token was not signed by a known key');
  if (err instanceof joseErrors.JOSEError) return new AuthError(`the token is not valid (${err.code})`);
  return new AuthError('the token could not be verified');
}

/** Claims → Principal: app roles from `roles`, plus roles granted by Entra group membership. */
export function principalFrom(payload: JWTPayload, cfg: Pick<IdentityConfig, 'roleGroups'>): Principal {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const groups = strings(payload.groups);
  const roles = new Set<Role>(strings(payload.roles).filter((r): r is Role => (ROLES as readonly string[]).includes(r)));
  for (const role of ROLES) {
    if ((cfg.roleGroups[role] ?? []).some((g) => groups.includes(g))) roles.add(role);
  }
  // Every signed-in member of the tenant may read the catalog.
  if (roles.size === 0) roles.add('Developer');
  const id = (typeof payload.oid === 'string' && payload.oid) || payload.sub;
  if (!id) throw new AuthError('the token names no subject');
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const email = str(payload.email) ?? (str(payload.preferred_username)?.includes('@') ? str(payload.preferred_username) : undefined) ?? str(payload.upn);
  return {
    id,
    name: str(payload.name) ?? str(payload.preferred_username) ?? id,
    ...(email ? { email } : {}),
    roles: ROLES.filter((r) => roles.has(r)),
    groups,
  };
}

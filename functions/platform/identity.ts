// Who is calling: verifies bearer tokens and turns their claims into a Principal.
// Production tokens come from Entra ID (checked against the tenant's JWKS); locally Nexus runs its
// own issuer (NEXUS_LOCAL_ISSUER=1) whose key pair lives under NEXUS_HOME, so tests and
// `npm run up` sign and verify real JWTs through the same code path.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  createLocalJWKSet, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT,
  errors as joseErrors, type JSONWebKeySet, type JWK, type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import type { IdentitySettings } from '../runtime/config.ts';

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
const ALG = 'ES256';

/** The configuration's `identity` section (functions/runtime/config.ts). */
export type IdentityConfig = IdentitySettings;

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

/**
 * The local issuer of this NEXUS_HOME: its key pair is created on first use and kept on disk, so
 * every process (server, CLI, tests) signing or verifying with that home uses the same key.
 */
export function localIssuer(cfg: IdentityConfig): Promise<LocalIssuer> {
  return loadIssuer(join(cfg.home, 'identity', 'local-issuer.jwk.json'), cfg.audience);
}

async function loadIssuer(file: string, audience: string): Promise<LocalIssuer> {
  let privateJwk: JWK;
  if (existsSync(file)) {
    privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } else {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    privateJwk = { ...(await exportJWK(privateKey)), alg: ALG, use: 'sig', kid: `nexus-local-${Date.now().toString(36)}` };
    mkdirSync(dirname(file), { recursive: true });
    try {
      // Exclusive: when two loaders race for a new home, the first key written is everyone's.
      writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    }
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
export async function signDevToken(claims: DevTokenClaims, cfg: IdentityConfig): Promise<string> {
  if (!cfg.localIssuer) throw new AuthError('the local issuer is off (set NEXUS_LOCAL_ISSUER=1 to sign development tokens)');
  return (await localIssuer(cfg)).sign(claims);
}

// ---------------------------------------------------------------------------------------------
// Verification

function entraKeys(cfg: IdentityConfig): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(`${cfg.authority}/${cfg.tenantId}/discovery/v2.0/keys`), { cooldownDuration: 30_000, cacheMaxAge: 3_600_000 });
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * A verifier bound to one configuration; the composition root makes one per process. `issuer` is
 * the local issuer when the caller already loaded it.
 */
export function tokenVerifier(cfg: IdentityConfig, opts: { issuer?: Promise<LocalIssuer> } = {}): TokenVerifier {
  // The tenant's key set and the local issuer, each made once for this verifier.
  let keys: JWTVerifyGetKey | undefined;
  let issuerKeys: Promise<LocalIssuer> | undefined = opts.issuer;
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
        issuerKeys ??= localIssuer(cfg);
        issuerKeys.catch(() => { issuerKeys = undefined; });
        const issuer = await issuerKeys;
        const { payload } = await jwtVerify(token, issuer.verifyKey, { issuer: LOCAL_ISSUER, audience: cfg.audience, algorithms: [ALG], requiredClaims: ['exp'] });
        return { principal: { ...principalFrom(payload, cfg), local: true }, exp: payload.exp! };
      }
      if (!entraIssuer) throw new AuthError('no Entra tenant is configured (NEXUS_ENTRA_TENANT_ID)');
      if (iss !== entraIssuer) throw new AuthError(`unexpected issuer "${iss ?? ''}"`);
      // Entra v2 access tokens carry the application id or its App ID URI as audience: accept either.
      const audience = cfg.audience.split(',').map((a) => a.trim()).filter(Boolean);
      const { payload } = await jwtVerify(token, (keys ??= entraKeys(cfg)), { issuer: entraIssuer, audience, algorithms: ['RS256'], requiredClaims: ['exp'] });
      return { principal: principalFrom(payload, cfg), exp: payload.exp! };
    } catch (err) {
      throw toAuthError(err);
    }
  };
  return verifyOnce;
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

// The Nexus REST API as one Hono app: the same app serves locally (@hono/node-server, see
// functions/server.ts) and in Azure Functions (functions/platform/functions-http.ts).
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Context } from 'hono';
import { authenticate } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { fieldErrors, problem, ProblemError, validationProblem } from './problem.ts';
import { apiApp, type ApiApp } from './openapi.ts';
import { routeModules } from './routes/index.ts';
import { BODY_PROBLEM, jsonBodies, MAX_LARGE_BODY } from './body.ts';
import { PORTAL_PATHS } from './routes/portal.ts';
import { AuthError } from '../platform/identity.ts';
import { ConcurrencyError } from '../platform/errors.ts';
import { RefError } from '../catalog/refs.ts';
import { maskSecrets } from '../platform/logger.ts';

export type { ApiApp } from './openapi.ts';
export type { ApiDeps } from './deps.ts';

/**
 * Paths that answer without a bearer token: health, the local issuer's public keys, and the
 * webhooks (each verifies its sender's signature or secret instead). Everything else is authenticated.
 */
export const PUBLIC_PATHS: ReadonlyArray<string | RegExp> = [
  '/healthz', '/.well-known/jwks.json', /^\/webhooks\//,
  // The portal's static files (routes/portal.ts): exactly its listed paths, no prefix.
  ...PORTAL_PATHS,
];

export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.some((p) => (typeof p === 'string' ? p === path : p.test(path)));
}

/**
 * The field a problem of this status is about when its thrower named none: a 401 is about the
 * credentials, a 404 about what the path names, a 412 about If-Match, a 413 about the body, a 415
 * about its content type. (A 403, 409 or 503 is about rights or state, not a field of the input.)
 */
const IMPLIED_FIELD: ReadonlyMap<number, string> = new Map([[401, 'header.authorization'], [404, 'path'], [412, 'header.if-match'], [413, 'body'], [415, 'header.content-type']]);

/** Whether the request came with a body that nothing read (nor a middleware buffered). */
function bodyLeftUnread(c: Context): boolean {
  const length = c.req.header('content-length');
  const sent = length !== undefined ? length.trim() !== '0' : c.req.header('transfer-encoding') !== undefined;
  return sent && Object.keys(c.req.bodyCache).length === 0 && !c.req.raw.bodyUsed;
}

export function createApp(deps: ApiDeps): ApiApp {
  // The root and every module's app share one validation hook (openapi.ts apiApp); the modules
  // set no error or not-found handler of their own, so the root's below answer for them too.
  const app = apiApp();

  // Webhook payloads are at most 25 MB (GitHub's limit); nothing else the API takes comes close.
  // Only methods that carry a body are checked: looking at the body of a GET makes the Node
  // adapter build a full web Request (headers, abort signal) that nothing else on a read needs.
  const limit = bodyLimit({
    maxSize: MAX_LARGE_BODY,
    onError: (c) => problem(c, 413, 'the request body is larger than 26 MB', { field: 'body', headers: { connection: 'close' } }),
  });
  app.use('*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    await next();
    // Answered without reading the body (an early 413, 401, 403 or 415): the rest of it is still
    // on the socket, and the server gives up draining a large one by resetting the connection.
    // Saying so lets a client's keep-alive pool open a new connection instead of losing its next
    // request on this one.
    if (bodyLeftUnread(c)) c.res.headers.set('connection', 'close');
  });
  app.use('*', async (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limit(c, next)));
  const auth = authenticate(deps.verify);
  app.use('*', async (c, next) => (isPublicPath(c.req.path) ? next() : auth(c, next)));
  app.use('*', jsonBodies());

  app.onError((err, c) => {
    if (err instanceof ProblemError) return problem(c, err.status, err.message, { field: IMPLIED_FIELD.get(err.status), ...err.extra });
    // The validators report any failure to read the body as a bare "Malformed JSON": the real
    // problem (depth, size, syntax, naming the field) was kept by jsonBodies.
    const bodyProblem = c.get(BODY_PROBLEM as never) as unknown;
    if (err instanceof HTTPException && bodyProblem instanceof ProblemError) return problem(c, bodyProblem.status, bodyProblem.message, bodyProblem.extra);
    if (err instanceof AuthError) return problem(c, 401, err.reason, { field: 'header.authorization' });
    if (err instanceof ConcurrencyError) return problem(c, 412, err.message, { field: 'header.if-match' });
    // A reference that does not parse: in a read's query, or in a write's body.
    if (err instanceof RefError) return problem(c, 400, err.message, { field: c.req.method === 'GET' ? 'query' : 'body' });
    const issues = (err as { issues?: unknown }).issues;
    if (Array.isArray(issues) && issues.length > 0 && issues.every((i) => i && (Array.isArray(i.path) || typeof i.path === 'string'))) {
      // A validation error from the domain (the catalog's kind schemas, its list cursor): the body
      // of a write is at fault, the query of a read.
      const normalized = issues.map((i: { path: string | PropertyKey[]; message: string }) => ({
        path: typeof i.path === 'string' ? i.path.split('.').filter(Boolean) : i.path,
        message: i.message,
      }));
      // A query the catalog cannot run names query.<parameter>; anything else is the body's fault.
      const where = (err as { where?: unknown }).where === 'query' ? 'query' : 'body';
      const p = validationProblem(fieldErrors(normalized, where));
      return problem(c, 400, p.message, p.extra);
    }
    const status = (err as { status?: unknown }).status;
    const field = (err as { field?: unknown }).field;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Hono's own 4xx (a body the validator could not read) are about the body.
      const named = typeof field === 'string' ? field : err instanceof HTTPException ? 'body' : IMPLIED_FIELD.get(status);
      return problem(c, status as 400, err.message, named ? { field: named } : {});
    }
    // Storage and SDK errors can quote connection strings or tokens: masked before logging.
    console.error(maskSecrets(`[api] ${c.req.method} ${c.req.path}: ${(err as Error)?.stack ?? err}`));
    return problem(c, 500, 'internal error; the server log has the details');
  });
  app.notFound((c) => problem(c, 404, `no route ${c.req.method} ${c.req.path}`, { field: 'path' }));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/.well-known/jwks.json', (c) => {
    if (!deps.localIssuer) return problem(c, 404, 'the local issuer is off; tokens come from Entra ID');
    return c.json(deps.localIssuer.jwks(), 200, { 'cache-control': 'public, max-age=300' });
  });

  // Mounted after the middleware above, so it runs ahead of every module's routes; the modules'
  // OpenAPI definitions are merged into this app's document.
  for (const routes of routeModules(deps)) app.route('/', routes);

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Nexus API', version: '1.0.0', description: 'The Nexus catalog and control plane.' },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  return app;
}

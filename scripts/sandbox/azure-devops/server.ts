// The Azure DevOps stand-in: an HTTP server on loopback that azure-devops-node-api and `git` talk to
// as if it were https://dev.azure.com. REST under /{org}/{project}/_apis/git/..., Git's smart HTTP
// under /{org}/{project}/_git/{repo} (through `git http-backend`), service hooks to one webhook.
// A test and demo environment (like the ARM sandbox); never shipped.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commitFolder, initBare, refs, resolve, safeName } from './git.ts';
import { httpBackend } from '../git-http-backend.ts';
import type { Delivery, WebhookTarget } from './hooks.ts';
import { STANDIN_USER, guidOf, type Identity, type RepoKey } from './model.ts';
import { gitRoute, locations, type Reply } from './rest.ts';
import { AdoState, HttpError } from './state.ts';

export interface AzureDevOpsStandInOptions {
  /** Bare repositories live under `<dataDir>/repos/<org>/<project>/<repo>.git`. */
  dataDir: string;
  port?: number;
  host?: string;
  /** Where service hooks go (Nexus's /webhooks/azure-devops); basic auth with `secret` as the password. */
  webhook?: WebhookTarget;
  /** The personal access token REST and Git requests must carry (basic auth password); when absent, a random one kept in `<dataDir>/pat`. */
  pat?: string;
}

export interface AzureDevOpsStandIn {
  /** The service root, as https://dev.azure.com (the organisation URL is `${url}/${org}`). */
  url: string;
  pat: string;
  /** A URL `git clone` / `git push` accept, with the PAT in it. */
  gitUrl(org: string, project: string, repo: string): string;
  /** What Nexus needs to use the default seeded repository. */
  env: Record<string, string>;
  /** Creates `org/project/repo` (if missing) with one commit of `fromDir` on main; returns main's commit. */
  seed(name: string, fromDir: string): Promise<string>;
  /** Every service hook sent, in order, with the receiver's status. */
  deliveries: Delivery[];
  /** Resolves when every service hook queued so far has been answered. */
  settled(): Promise<void>;
  state: AdoState;
  stop(): Promise<void>;
}

export const DEFAULT_REPO = 'contoso/platform/landing-zones';
const MAX_BODY = 5 * 1024 * 1024;

export async function startAzureDevOpsStandIn(opts: AzureDevOpsStandInOptions): Promise<AzureDevOpsStandIn> {
  const root = join(opts.dataDir, 'repos');
  await mkdir(root, { recursive: true });
  const pat = opts.pat ?? (await keptPat(opts.dataDir));
  const host = opts.host ?? '127.0.0.1';
  let baseUrl = '';
  const state = new AdoState(root, () => baseUrl, opts.webhook);
  const server: Server = createServer((req, res) => {
    void handle(state, pat, req, res).catch((err) => send(res, errorReply(err)));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const port = (server.address() as { port: number }).port;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const gitUrl = (org: string, project: string, repo: string) => {
    const u = new URL(`${baseUrl}/${org}/${project}/_git/${repo}`);
    u.username = 'nexus';
    u.password = pat;
    return u.toString();
  };
  const [org, project, repo] = DEFAULT_REPO.split('/');
  return {
    url: baseUrl,
    pat,
    gitUrl,
    env: {
      NEXUS_ADO_URL: baseUrl,
      NEXUS_ADO_PAT: pat,
      NEXUS_LANDING_ZONE_REPO: `azure-devops:${DEFAULT_REPO}`,
      NEXUS_LANDING_ZONE_GIT_URL: gitUrl(org, project, repo),
    },
    async seed(name, fromDir) {
      const k = parseName(name);
      const dir = state.dir(k);
      await initBare(dir);
      return (await resolve(dir, 'refs/heads/main')) ?? commitFolder(dir, fromDir, 'main', 'Landing zones: the first commit');
    },
    deliveries: state.hooks.deliveries,
    settled: () => state.hooks.settled(),
    state,
    stop: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

/** A random PAT kept in the data dir, so clones made in an earlier run keep working. */
async function keptPat(dataDir: string): Promise<string> {
  const file = join(dataDir, 'pat');
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (kept) return kept;
  } catch {
    // first run
  }
  const pat = randomBytes(24).toString('base64url');
  await writeFile(file, `${pat}\n`, { mode: 0o600 });
  return pat;
}

function parseName(name: string): RepoKey {
  const [org, project, repo, ...more] = name.split('/');
  if (more.length || ![org, project, repo].every((p) => p && safeName(p))) throw new Error(`seed: '${name}' is not org/project/repo`);
  return { org, project, repo };
}

/** Basic auth (`user:PAT`, what getPersonalAccessTokenHandler and git send) or `Bearer PAT`. */
function caller(req: IncomingMessage, pat: string): Identity | undefined {
  const h = req.headers.authorization ?? '';
  let user = '';
  let secret: string | undefined;
  const basic = /^Basic\s+(\S+)$/i.exec(h);
  if (basic) {
    const text = Buffer.from(basic[1], 'base64').toString('utf8');
    const i = text.indexOf(':');
    user = i < 0 ? '' : text.slice(0, i);
    secret = i < 0 ? text : text.slice(i + 1);
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(h);
  if (bearer) secret = bearer[1];
  if (secret === undefined) return undefined;
  const a = Buffer.from(secret);
  const b = Buffer.from(pat);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  // A user name that looks like an e-mail names the pusher (tests act as several people).
  return user.includes('@') ? { id: guidOf('user', user), displayName: user, uniqueName: user } : STANDIN_USER;
}

async function handle(state: AdoState, pat: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://standin');
  let seg: string[];
  try {
    seg = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, `path: '${url.pathname.slice(0, 200)}' is not valid percent-encoding`);
  }
  const method = req.method ?? 'GET';
  if (seg[0] === '_standin' && seg[1] === 'health') return send(res, { status: 200, json: { ok: true } });
  const who = caller(req, pat);
  if (!who) {
    res.setHeader('WWW-Authenticate', 'Basic realm="https://dev.azure.com/"');
    return send(res, { status: 401, json: { message: 'TF400813: the personal access token is missing or wrong (header Authorization)', typeKey: 'UnauthorizedRequestException' } });
  }
  if (seg.length < 2 || !safeName(seg[0])) throw new HttpError(404, `no route for ${url.pathname}`, 'RouteNotFound');
  const org = seg[0];
  if (seg[1].toLowerCase() === '_apis') {
    if (method === 'OPTIONS' && seg[2]) return send(res, locations(seg[2]));
    // Organisation-level resource areas: none, so clients use the organisation URL for every area.
    if (method === 'GET' && seg[2]?.toLowerCase() === 'resourceareas') return send(res, { status: 200, json: { count: 0, value: [] } });
    throw new HttpError(404, `no route for ${method} ${url.pathname}`, 'RouteNotFound');
  }
  const project = seg[1];
  if (!safeName(project)) throw new HttpError(404, `project '${project}' does not exist`, 'ProjectDoesNotExistWithNameException');
  if (seg[2] === '_git' && seg[3] && safeName(seg[3])) {
    const k = { org, project, repo: seg[3].replace(/\.git$/, '') };
    // Only the smart HTTP paths (info/refs, git-upload-pack, git-receive-pack) reach http-backend.
    if (!/^(info\/refs|git-upload-pack|git-receive-pack)$/.test(seg.slice(4).join('/'))) throw new HttpError(404, `no Git route ${url.pathname}`, 'RouteNotFound');
    const pathInfo = `/${org}/${project}/${k.repo}.git/${seg.slice(4).join('/')}`;
    const push = seg[4] === 'git-receive-pack';
    if (!push) return httpBackend(req, res, { root: state.root, pathInfo, query: url.search.slice(1), user: who.uniqueName });
    return state.exclusive(k, async () => {
      const before = await refs(state.dir(k));
      await httpBackend(req, res, { root: state.root, pathInfo, query: url.search.slice(1), user: who.uniqueName, beforeEnd: () => state.pushed(k, before, who) });
    });
  }
  if (seg[2]?.toLowerCase() === '_apis' && seg[3]?.toLowerCase() === 'git') {
    const body = method === 'POST' || method === 'PATCH' || method === 'PUT' ? await readJson(req) : undefined;
    return send(res, await gitRoute(state, org, project, method, seg.slice(4), url.searchParams, body, String(req.headers.accept ?? '')));
  }
  throw new HttpError(404, `no route for ${method} ${url.pathname}`, 'RouteNotFound');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `body: larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body: not valid JSON');
  }
}

function errorReply(err: unknown): Reply {
  if (err instanceof HttpError) return { status: err.status, json: { $id: '1', innerException: null, message: err.message, typeName: err.typeKey, typeKey: err.typeKey, errorCode: 0, eventId: 3000 } };
  return { status: 500, json: { message: err instanceof Error ? err.message : String(err), typeKey: 'UnexpectedException' } };
}

function send(res: ServerResponse, r: Reply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (r.bytes) {
    res.writeHead(r.status, { 'content-type': r.bytes.type, 'content-length': r.bytes.body.length });
    res.end(r.bytes.body);
    return;
  }
  const body = r.json === undefined ? '' : JSON.stringify(r.json);
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

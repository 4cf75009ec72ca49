// The local GitHub stand-in: one node:http server on loopback that answers GitHub's REST shapes
// under /api/v3 (as GitHub Enterprise Server does, so Octokit's baseUrl points there) and Git's
// smart HTTP protocol at /{owner}/{repo}.git, and sends signed webhooks as GitHub does. State
// (bare repositories, pull requests, comments, reviews, check runs) lives under `dataDir`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Ctx, StandInError, invalid, notFound } from './context.ts';
import { commitTree, initBare, resolveCommit, treeOfFolder, updateRef, ZERO_SHA } from './git.ts';
import { bodyObject, field, readJson, type ApiRequest, type Reply } from './http.ts';
import { repoRoutes } from './api-repos.ts';
import { gitDataRoutes } from './api-git-data.ts';
import { pullRoutes } from './api-pulls.ts';
import { issueRoutes } from './api-issues.ts';
import { statusRoutes } from './api-statuses.ts';
import { isGitPath, serveGit } from './smart-http.ts';
import { userOf } from './shapes.ts';
import { ADMIN_LOGIN, Store, type User } from './store.ts';
import { Deliverer, type Delivery, type WebhookTarget } from './webhooks.ts';

export const LANDING_ZONE_REPO = 'contoso/landing-zones';

export interface GitHubStandInOptions {
  /** Folder of the bare repositories and state.json; reused across restarts. */
  dataDir: string;
  port?: number;
  host?: string;
  /** Where webhooks go (all repositories), signed with `secret`. */
  webhook?: WebhookTarget;
  /** The main token (acts as `nexus-bot`); kept in state.json when not given. */
  token?: string;
  /** More users besides alice, bob, carol and nexus-bot. */
  users?: Omit<User, 'id'>[];
}

export interface FailNext { count: number; status?: 403 | 429; retryAfter?: number }

export interface GitHubStandIn {
  url: string;
  apiUrl: string;
  /** The main token (user nexus-bot, a site admin). */
  token: string;
  /** A clone / push URL with `login` and a token of that user embedded (default alice). */
  gitUrl(owner: string, repo: string, login?: string): string;
  tokenFor(login: string): string;
  env: Record<string, string>;
  createRepo(ownerRepo: string, opts?: { defaultBranch?: string }): Promise<void>;
  seed(ownerRepo: string, fromDir: string, opts?: { login?: string; message?: string; branch?: string }): Promise<{ sha: string; created: boolean }>;
  /** The next `count` REST requests answer as a rate-limited GitHub does (403 by default, or 429). */
  failNext(f: FailNext): void;
  deliveries: Delivery[];
  /** Resolves when every queued webhook delivery has finished (delivered or given up). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGitHubStandIn(opts: GitHubStandInOptions): Promise<GitHubStandIn> {
  const store = new Store(opts.dataDir, { token: opts.token, users: opts.users });
  const hooks = new Deliverer(opts.webhook, 1);
  const host = opts.host ?? '127.0.0.1';
  const urls = { api: '', html: '' };
  const ctx = new Ctx(store, urls, hooks, opts.dataDir);
  const limiter = { left: 0, status: 403 as 403 | 429, retryAfter: 1 };

  const server = createServer((req, res) => {
    void handle(ctx, limiter, req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `The stand-in failed: ${(e as Error).message}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  urls.html = url;
  urls.api = `${url}/api/v3`;

  const gitUrl = (owner: string, repo: string, login = 'alice') => {
    const u = new URL(`${url}/${owner}/${repo}.git`);
    u.username = login;
    u.password = store.tokenFor(login);
    return u.toString();
  };
  const createRepo = async (ownerRepo: string, o: { defaultBranch?: string } = {}) => {
    const [owner, name] = ownerRepo.split('/');
    if (!owner || !name || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(owner) || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name)) {
      throw new Error(`not an owner/repo: ${ownerRepo}`);
    }
    const full = `${owner}/${name}`;
    await initBare(ctx.repoDir(full), o.defaultBranch ?? 'main');
    if (!store.repos.has(full)) {
      const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      store.repos.set(full, { owner, name, id: store.id(), defaultBranch: o.defaultBranch ?? 'main', createdAt: at, pushedAt: at });
      store.save();
    }
  };

  return {
    url,
    apiUrl: urls.api,
    token: store.adminToken,
    gitUrl,
    tokenFor: (login) => store.tokenFor(login),
    env: {
      NEXUS_GITHUB_API_URL: urls.api,
      NEXUS_GITHUB_TOKEN: store.adminToken,
      NEXUS_LANDING_ZONE_REPO: `github:${LANDING_ZONE_REPO}`,
      NEXUS_LANDING_ZONE_GIT_URL: gitUrl('contoso', 'landing-zones'),
      ...(opts.webhook ? { NEXUS_GITHUB_WEBHOOK_SECRET: opts.webhook.secret } : {}),
    },
    createRepo,
    // Seeding writes the first commit directly (no webhook): it is the repository's starting point.
    seed: async (ownerRepo, fromDir, o = {}) => {
      if (!existsSync(fromDir)) throw new Error(`seed: no folder ${fromDir}`);
      await createRepo(ownerRepo);
      const full = ownerRepo;
      const meta = store.repos.get(full);
      const branch = o.branch ?? meta?.defaultBranch ?? 'main';
      const dir = ctx.repoDir(full);
      return ctx.withLock(full, async () => {
        const tip = await resolveCommit(dir, `refs/heads/${branch}`);
        if (tip) return { sha: tip, created: false };
        const user = store.users.get(o.login ?? 'alice');
        if (!user) throw new Error(`seed: the stand-in knows no user ${o.login}`);
        const tree = await treeOfFolder(dir, fromDir);
        const sha = await commitTree(dir, tree, [], o.message ?? 'Initial landing zones', { name: user.name, email: user.email });
        await updateRef(dir, `refs/heads/${branch}`, sha, ZERO_SHA);
        return { sha, created: true };
      });
    },
    failNext: (f) => {
      limiter.left = f.count;
      limiter.status = f.status ?? 403;
      limiter.retryAfter = f.retryAfter ?? 1;
    },
    deliveries: hooks.deliveries,
    idle: () => hooks.idle(),
    stop: () =>
      new Promise<void>((resolve) => {
        hooks.stop();
        store.save();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(ctx: Ctx, limiter: { left: number; status: 403 | 429; retryAfter: number }, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', ctx.urls.html);
  if (isGitPath(url.pathname)) return serveGit(ctx, req, res, url);
  let reply: Reply;
  try {
    if (url.pathname === '/_standin/health') {
      reply = { status: 200, body: { status: 'ok' } };
    } else if (url.pathname.startsWith('/_standin/')) {
      reply = await sideDoor(ctx, limiter, req, url.pathname);
    } else if (url.pathname.startsWith('/api/v3/') || url.pathname === '/api/v3') {
      const login = authenticate(ctx, req.headers.authorization);
      if (limiter.left > 0) {
        limiter.left--;
        reply = rateLimited(limiter);
      } else {
        const apiUrl = new URL(ctx.urls.api + url.pathname.slice('/api/v3'.length) + url.search);
        reply = await route(ctx, { method: (req.method ?? 'GET').toUpperCase(), url: apiUrl, login, body: await readJson(req) }, url.pathname.slice('/api/v3'.length));
      }
    } else {
      throw notFound();
    }
  } catch (e) {
    if (!(e instanceof StandInError)) throw e;
    reply = { status: e.status, body: { message: e.message, ...(e.errors ? { errors: e.errors } : {}), documentation_url: 'https://docs.github.com/rest', status: String(e.status) } };
  }
  const headers: Record<string, string> = { 'x-github-request-id': randomUUID(), 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', ...reply.headers };
  if (reply.raw) {
    res.writeHead(reply.status, { ...headers, 'content-length': String(reply.raw.length) }).end(reply.raw);
  } else if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
  } else {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) }).end(text);
  }
}

/** The test hooks over HTTP (main token only), for a stand-in running in another process. */
async function sideDoor(ctx: Ctx, limiter: { left: number; status: 403 | 429; retryAfter: number }, req: IncomingMessage, path: string): Promise<Reply> {
  if (authenticate(ctx, req.headers.authorization) !== ADMIN_LOGIN) throw new StandInError(403, 'The side door takes the main token.');
  const method = (req.method ?? 'GET').toUpperCase();
  if (path === '/_standin/deliveries' && method === 'GET') {
    return { status: 200, body: ctx.hooks.deliveries.map((d) => ({ ...d, body: JSON.parse(d.body) })) };
  }
  if (path === '/_standin/fail-next' && method === 'POST') {
    const b = bodyObject({ method, url: new URL(ctx.urls.api), login: ADMIN_LOGIN, body: await readJson(req) }, 'FailNext');
    const count = field(b, 'count');
    const status = field(b, 'status') ?? 403;
    const retryAfter = field(b, 'retryAfter') ?? 1;
    if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > 1000) throw invalid('FailNext', 'count', 'count must be an integer from 0 to 1000');
    if (status !== 403 && status !== 429) throw invalid('FailNext', 'status', 'status must be 403 or 429');
    if (!Number.isInteger(retryAfter) || (retryAfter as number) < 0 || (retryAfter as number) > 3600) throw invalid('FailNext', 'retryAfter', 'retryAfter must be whole seconds from 0 to 3600');
    Object.assign(limiter, { left: count, status, retryAfter });
    return { status: 204 };
  }
  throw notFound();
}

function authenticate(ctx: Ctx, header: string | undefined): string {
  if (!header) throw new StandInError(401, 'Requires authentication');
  const m = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
  const login = m ? ctx.store.tokens.get(m[1]) : undefined;
  if (!login) throw new StandInError(401, 'Bad credentials');
  return login;
}

function rateLimited(l: { status: 403 | 429; retryAfter: number }): Reply {
  const reset = Math.ceil(Date.now() / 1000) + l.retryAfter;
  return {
    status: l.status,
    headers: { 'retry-after': String(l.retryAfter), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset), 'x-ratelimit-limit': '5000' },
    body: { message: l.status === 403 ? 'API rate limit exceeded for user.' : 'You have exceeded a secondary rate limit.', documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting', status: String(l.status) },
  };
}

async function route(ctx: Ctx, req: ApiRequest, path: string): Promise<Reply> {
  if (path === '/user' && req.method === 'GET') return { status: 200, body: userWithEmail(ctx, req.login) };
  const u = /^\/users\/([^/]+)$/.exec(path);
  if (u && req.method === 'GET') {
    if (!ctx.store.users.has(u[1])) throw notFound();
    return { status: 200, body: userWithEmail(ctx, u[1]) };
  }
  const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
  if (!m) throw notFound();
  const repo = ctx.store.repos.get(`${m[1]}/${m[2]}`);
  if (!repo) throw notFound();
  const rest = (m[3] ?? '').replace(/\/$/, '');
  // Order matters: /commits/{ref}/check-runs and /commits/{ref}/statuses before /commits/{ref}.
  const reply = (await issueRoutes(ctx, repo, rest, req)) ?? (await statusRoutes(ctx, repo, rest, req))
    ?? (await pullRoutes(ctx, repo, rest, req)) ?? (await gitDataRoutes(ctx, repo, rest, req)) ?? (await repoRoutes(ctx, repo, rest, req));
  if (!reply) throw new StandInError(404, `Not Found (the stand-in has no route ${req.method} ${path})`);
  return reply;
}

function userWithEmail(ctx: Ctx, login: string) {
  const user = ctx.store.users.get(login);
  return { ...userOf(ctx.store, login, ctx.urls), name: user?.name ?? null, email: user?.email ?? null, site_admin: login === ADMIN_LOGIN };
}

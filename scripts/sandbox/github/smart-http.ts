// Git's smart HTTP protocol, served by the machine's `git http-backend` (a CGI program) behind
// node:http. Basic auth: the user name is the pusher's login, the password a token of that user
// (or the stand-in's main token). A receive-pack runs under the repository's lock; the refs are
// compared before and after it and a `push` webhook goes out per updated ref.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx } from './context.ts';
import { listRefs } from './git.ts';
import { deliverPushes } from './events.ts';
import { ADMIN_LOGIN } from './store.ts';
import { httpBackend } from '../git-http-backend.ts';

const GIT_PATH = /^\/([A-Za-z0-9_-][A-Za-z0-9_.-]*)\/([A-Za-z0-9_-][A-Za-z0-9_.-]*?)(?:\.git)?(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD))$/;

export function isGitPath(path: string): boolean {
  return GIT_PATH.test(path);
}

function deny(res: ServerResponse, status: number, message: string) {
  const headers: Record<string, string> = { 'content-type': 'text/plain' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="GitHub stand-in"';
  res.writeHead(status, headers).end(message + '\n');
}

/** The login a Basic header proves, or undefined. */
function basicLogin(ctx: Ctx, header: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  const login = decoded.slice(0, i);
  const owner = ctx.store.tokens.get(decoded.slice(i + 1));
  if (!ctx.store.users.has(login) || !owner) return undefined;
  return owner === login || owner === ADMIN_LOGIN ? login : undefined;
}

export async function serveGit(ctx: Ctx, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const m = GIT_PATH.exec(url.pathname) as RegExpExecArray;
  const full = `${m[1]}/${m[2]}`;
  const login = basicLogin(ctx, req.headers.authorization);
  if (!login) return deny(res, 401, 'Authentication failed: give your login as the user name and a token of yours as the password.');
  if (!ctx.store.repos.has(full) || !existsSync(ctx.repoDir(full))) return deny(res, 404, `Repository not found: ${full}`);
  const receive = m[3] === '/git-receive-pack';
  if (!receive) return runBackend(ctx, req, res, full, m[3], url, login);
  await ctx.withLock(full, async () => {
    const before = await listRefs(ctx.repoDir(full));
    // The webhooks are queued before the response ends, so when `git push` returns they are on
    // their way (and `idle()` waits for them). A failure to build one is reported, not thrown:
    // the push itself has happened.
    await runBackend(ctx, req, res, full, m[3], url, login, async () => {
      const after = await listRefs(ctx.repoDir(full));
      await deliverPushes(ctx, full, before, after, login).catch((e) => {
        process.stderr.write(`[github stand-in] no push webhook for ${full}: ${(e as Error).message}\n`);
      });
    });
  });
}

function runBackend(ctx: Ctx, req: IncomingMessage, res: ServerResponse, full: string, rest: string, url: URL, login: string, beforeEnd?: () => Promise<void>): Promise<void> {
  return httpBackend(req, res, { root: join(ctx.dataDir, 'repos'), pathInfo: `/${full}.git${rest}`, query: url.search.replace(/^\?/, ''), user: login, beforeEnd });
}

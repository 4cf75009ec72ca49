// Git's smart HTTP protocol, served by the machine's `git http-backend` (a CGI program) behind
// node:http. Basic auth: the user name is the pusher's login, the password a token of that user
// (or the stand-in's main token). A receive-pack runs under the repository's lock; the refs are
// compared before and after it and a `push` webhook goes out per updated ref.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx } from './context.ts';
import { listRefs } from './git.ts';
import { deliverPushes } from './events.ts';
import { ADMIN_LOGIN } from './store.ts';

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
  return new Promise((resolve) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: join(ctx.dataDir, 'repos'),
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${full}.git${rest}`,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: login,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.receivepack', GIT_CONFIG_VALUE_0: 'true',
    };
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    if (req.headers['content-length']) env.CONTENT_LENGTH = String(req.headers['content-length']);
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let head = Buffer.alloc(0);
    let headerDone = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf('\r\n\r\n');
      const lf = head.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      headerDone = true;
      const sep = end === crlf ? 4 : 2;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + sep));
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    child.on('close', async (code) => {
      if (!headerDone) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`git http-backend failed (${code}): ${stderr.trim()}\n`);
      } else {
        await beforeEnd?.();
        res.end();
      }
      resolve();
    });
    child.on('error', (e) => {
      if (!res.headersSent) deny(res, 500, `git http-backend could not start: ${e.message}`);
      resolve();
    });
  });
}

// Git's smart HTTP for the stand-ins (GitHub's and Azure DevOps's): the machine's `git http-backend`
// CGI behind node:http. The request body goes to its stdin; its CGI headers and body come back.
// `beforeEnd` runs after the backend exits and before the response ends, so a client whose push
// returned can rely on what the push set off (the webhook or service hook).
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface BackendRequest {
  /** GIT_PROJECT_ROOT: the folder of the bare repositories. */
  root: string;
  /** PATH_INFO: the repository path under `root` and the smart HTTP route. */
  pathInfo: string;
  query: string;
  /** REMOTE_USER: the authenticated user (the caller checked the credentials). */
  user: string;
  beforeEnd?: () => Promise<void>;
}

export function httpBackend(req: IncomingMessage, res: ServerResponse, r: BackendRequest): Promise<void> {
  return new Promise((resolve) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: r.root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: r.pathInfo,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: r.query,
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: r.user,
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
        await r.beforeEnd?.().catch(() => undefined);
        res.end();
      }
      resolve();
    });
    child.on('error', (e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git http-backend could not start: ${e.message}\n`);
      resolve();
    });
  });
}

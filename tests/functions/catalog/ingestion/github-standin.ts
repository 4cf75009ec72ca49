// A local stand-in for GitHub's REST contents endpoint (GET /repos/{owner}/{repo}/contents/{path}?ref=),
// answering in GitHub's wire format so the real Octokit client talks to it.
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';

export interface GitHubStandIn {
  url: string;
  /** Files by `owner/repo@ref:path`. */
  files: Map<string, string>;
  requests: string[];
  close(): Promise<void>;
}

export async function startGitHubStandIn(): Promise<GitHubStandIn> {
  const files = new Map<string, string>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const m = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(url.pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || !m) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const [, owner, repo, rawPath] = m;
    const path = decodeURIComponent(rawPath!);
    const text = files.get(`${owner}/${repo}@${url.searchParams.get('ref') ?? 'HEAD'}:${path}`);
    if (text === undefined) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content' });
    const content = Buffer.from(text).toString('base64').replace(/(.{60})/g, '$1\n');
    send(200, {
      type: 'file', encoding: 'base64', size: Buffer.byteLength(text), name: path.split('/').pop(), path, content,
      sha: createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0${text}`).digest('hex'),
      url: `${url.origin}${url.pathname}`, html_url: `https://github.com/${owner}/${repo}/blob/main/${path}`,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

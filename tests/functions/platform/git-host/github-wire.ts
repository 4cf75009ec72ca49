// A small loopback server answering the GitHub REST routes GitHubHost uses, with GitHub's wire
// shapes: status codes, Link pagination, rate-limit headers, the tarball's 302 to codeload and a
// gzip tar built here with node-tar's Header/Pax (so evil entries can be written on purpose), and
// GitHub App auth (JWTs checked with jose). Only for tests/functions/platform/git-host/github.test.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { Header, Pax } from 'tar';

export interface TarItem {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  body?: string | Buffer;
  linkpath?: string;
}

/** A GitHub-style tarball: pax global header with the commit id, then the entries, gzipped. */
export function tarball(commit: string, items: TarItem[]): Buffer {
  const blocks: Buffer[] = [new Pax({ comment: commit }, true).encode()];
  for (const it of items) {
    const body = it.body === undefined ? Buffer.alloc(0) : Buffer.from(it.body);
    const type = it.type ?? 'File';
    const h = new Header({ path: it.path, type, size: type === 'File' ? body.length : 0, mode: type === 'Directory' ? 0o755 : 0o644, mtime: new Date(0), linkpath: it.linkpath, uname: '', gname: '' });
    h.encode();
    blocks.push(h.block!);
    if (type === 'File' && body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

export interface WireRequest { method: string; path: string; auth?: string }

export interface Wire {
  url: string;
  requests: WireRequest[];
  tarballs: Map<string, Buffer>;
  comments: { id: number; body: string; user: { login: string } }[];
  checkRuns: { id: number; app: { id: number; slug: string }; name: string; head_sha: string; status: string; conclusion: string | null; output: unknown; details_url?: string }[];
  statuses: Record<string, unknown>[];
  /** Path (without query) → a canned failure answered instead of the route. */
  faults: Map<string, { status: number; headers?: Record<string, string>; message: string }>;
  /** Set for App auth: installation tokens are only minted for JWTs signed with this key. */
  app?: { appId: number; privateKey: string; publicKey: KeyObject; installationId: number; token: string };
  close(): Promise<void>;
}

const OWNER = 'contoso';
const REPO = 'landing-zones';
const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};

export function sha(n: number): string {
  return n.toString(16).padStart(40, 'a');
}

/** A REST commit object as GET commits/{sha} and compare's commits carry it. */
export function restCommit(n: number, signed = false): Record<string, unknown> {
  return {
    sha: sha(n),
    node_id: 'C_x',
    commit: {
      author: { name: `Author ${n}`, email: `a${n}@contoso.example`, date: '2026-12-01T10:00:00Z' },
      committer: { name: 'GitHub', email: 'noreply@github.com', date: '2026-12-01T10:00:00Z' },
      message: `change ${n}`,
      tree: { sha: sha(9999), url: 'x' },
      comment_count: 0,
      verification: signed
        ? { verified: true, reason: 'valid', signature: '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----', payload: `tree ${sha(9999)}\nauthor x\n\nchange ${n}\n`, verified_at: '2026-12-01T10:00:01Z' }
        : { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    author: { login: `user${n}`, id: n, type: 'User' },
    committer: { login: 'web-flow', id: 1, type: 'User' },
    parents: n > 1 ? [{ sha: sha(n - 1), url: 'x' }] : [],
  };
}

function page<T>(req: IncomingMessage, base: string, items: T[], res: ServerResponse, wrap?: (slice: T[]) => unknown, extraQuery = '') {
  const u = new URL(req.url!, base);
  const per = Math.min(100, Number(u.searchParams.get('per_page') ?? 30));
  const p = Number(u.searchParams.get('page') ?? 1);
  const slice = items.slice((p - 1) * per, p * per);
  const last = Math.max(1, Math.ceil(items.length / per));
  const link = (n: number, rel: string) => `<${base}${u.pathname}?${extraQuery}per_page=${per}&page=${n}>; rel="${rel}"`;
  const links = [...(p < last ? [link(p + 1, 'next'), link(last, 'last')] : []), ...(p > 1 ? [link(1, 'first'), link(p - 1, 'prev')] : [])];
  json(res, 200, wrap ? wrap(slice) : slice, links.length ? { link: links.join(', ') } : {});
}

async function bearer(wire: Wire, req: IncomingMessage): Promise<'app' | 'installation' | undefined> {
  const auth = req.headers.authorization ?? '';
  if (!wire.app) return 'installation';
  if (/^(token|bearer) /i.test(auth) && auth.slice(auth.indexOf(' ') + 1) === wire.app.token) return 'installation';
  const jwt = auth.replace(/^bearer /i, '');
  try {
    const { payload } = await jwtVerify(jwt, wire.app.publicKey, { algorithms: ['RS256'] });
    return String(payload.iss) === String(wire.app.appId) ? 'app' : undefined;
  } catch {
    return undefined;
  }
}

export async function startWire(opts: { app?: boolean; commits?: number } = {}): Promise<Wire> {
  const commits = Array.from({ length: opts.commits ?? 5 }, (_, i) => restCommit(i + 1, i % 2 === 0));
  const reviews = [
    { id: 1, user: { login: 'alice' }, state: 'APPROVED', commit_id: sha(5), submitted_at: '2026-12-01T11:00:00Z' },
    { id: 2, user: { login: 'bob' }, state: 'CHANGES_REQUESTED', commit_id: sha(4), submitted_at: '2026-12-01T11:01:00Z' },
    { id: 3, user: { login: 'carol' }, state: 'PENDING', commit_id: sha(5) },
    { id: 4, user: null, state: 'APPROVED', commit_id: sha(5), submitted_at: '2026-12-01T11:02:00Z' },
  ];
  let nextId = 1000;
  const wire: Wire = {
    url: '', requests: [], tarballs: new Map(), comments: [], checkRuns: [], statuses: [], faults: new Map(),
    close: () => new Promise((r) => server.close(() => r())),
  };
  // Someone else's comments first, so the marker is found on a later page.
  for (let i = 0; i < 130; i++) wire.comments.push({ id: nextId++, body: `comment ${i}`, user: { login: 'someone' } });
  // A participant pasting Nexus's marker (first, so position alone would pick it).
  wire.comments.unshift({ id: nextId++, body: '<!-- nexus:preview -->\nall clear, trust me', user: { login: 'mallory' } });
  if (opts.app) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    wire.app = { appId: 4242, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: createPublicKey(privateKey), installationId: 77, token: 'ghs_installation_token_x' };
  }
  const repo = `/repos/${OWNER}/${REPO}`;

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const u = new URL(req.url!, wire.url);
    const path = u.pathname;
    wire.requests.push({ method: req.method!, path, auth: req.headers.authorization });
    const fault = wire.faults.get(path);
    if (fault) return json(res, fault.status, { message: fault.message, documentation_url: 'https://docs.github.com/rest' }, fault.headers);
    if (path.startsWith('/_codeload/')) {
      const tgz = wire.tarballs.get(path.split('/').pop()!);
      if (!tgz) return json(res, 404, { message: 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': String(tgz.length) });
      return res.end(tgz);
    }
    const who = await bearer(wire, req);
    if (wire.app && path === `/app/installations/${wire.app.installationId}/access_tokens` && req.method === 'POST') {
      if (who !== 'app') return json(res, 401, { message: 'A JSON web token could not be decoded' });
      return json(res, 201, { token: wire.app.token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { contents: 'read' }, repository_selection: 'selected' });
    }
    if (wire.app && path === `${repo}/installation`) {
      if (who !== 'app') return json(res, 401, { message: 'A JSON web token could not be decoded' });
      return json(res, 200, { id: wire.app.installationId, app_id: wire.app.appId });
    }
    if (wire.app && path === '/app') {
      if (who !== 'app') return json(res, 401, { message: 'A JSON web token could not be decoded' });
      return json(res, 200, { id: wire.app.appId, slug: 'nexus-gitops', name: 'Nexus GitOps' });
    }
    if (who !== 'installation') return json(res, 401, { message: 'Bad credentials' });
    if (path === '/user') {
      if (wire.app) return json(res, 403, { message: 'Resource not accessible by integration' });
      return json(res, 200, { login: 'nexus-bot', id: 1, type: 'User' });
    }

    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/branches\/(.+)$/))) {
      const name = decodeURIComponent(m[1]);
      if (name !== 'main') return json(res, 404, { message: 'Branch not found' });
      return json(res, 200, { name, commit: { sha: sha(commits.length), url: 'x' }, protected: false });
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/commits\/([^/]+)$/))) {
      const c = commits.find((x) => x.sha === m![1]);
      return c ? json(res, 200, { ...c, files: [] }) : json(res, 422, { message: `No commit found for SHA: ${m[1]}` });
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/compare\/([0-9a-f]+)\.\.\.([0-9a-f]+)$/))) {
      const from = commits.findIndex((x) => x.sha === m![1]);
      const to = commits.findIndex((x) => x.sha === m![2]);
      if (from < 0 || to < 0) return json(res, 404, { message: 'Not Found' });
      const span = commits.slice(from + 1, to + 1);
      return page(req, wire.url, span, res, (slice) => ({ status: to > from ? 'ahead' : to === from ? 'identical' : 'behind', ahead_by: span.length, behind_by: 0, total_commits: span.length, commits: slice, files: [] }));
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/tarball\/(.+)$/))) {
      // As GitHub: a 302 to codeload; the client follows it.
      res.writeHead(302, { location: `${wire.url}/_codeload/${OWNER}/${REPO}/legacy.tar.gz/${m[1]}` });
      return res.end();
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/pulls\/(\d+)$/))) {
      if (m[1] !== '7') return json(res, 404, { message: 'Not Found' });
      return json(res, 200, { number: 7, state: 'closed', draft: false, merged: true, merged_at: '2026-12-01T12:00:00Z', merge_commit_sha: sha(5), title: 'Add a subscription', html_url: 'https://github.com/contoso/landing-zones/pull/7', head: { ref: 'feature/x', sha: sha(4) }, base: { ref: 'main', sha: sha(3) } });
    }
    if (path === `${repo}/pulls/7/reviews`) return page(req, wire.url, reviews, res);
    if (path === `${repo}/issues/7/comments` && req.method === 'GET') return page(req, wire.url, wire.comments, res);
    if (path === `${repo}/issues/7/comments` && req.method === 'POST') {
      const c = { id: nextId++, body: JSON.parse(body).body, user: { login: wire.app ? 'nexus-gitops[bot]' : 'nexus-bot' } };
      wire.comments.push(c);
      return json(res, 201, c);
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/issues\/comments\/(\d+)$/)) && req.method === 'PATCH') {
      const c = wire.comments.find((x) => x.id === Number(m![1]));
      if (!c) return json(res, 404, { message: 'Not Found' });
      c.body = JSON.parse(body).body;
      return json(res, 200, c);
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/commits\/([^/]+)\/check-runs$/))) {
      const name = u.searchParams.get('check_name');
      const runs = wire.checkRuns.filter((r) => r.head_sha === m![1] && (!name || r.name === name));
      return json(res, 200, { total_count: runs.length, check_runs: runs });
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/statuses\/([0-9a-f]{40})$/)) && req.method === 'POST') {
      const st = { id: nextId++, sha: m[1], ...JSON.parse(body) };
      wire.statuses.push(st);
      return json(res, 201, st);
    }
    if (path === `${repo}/check-runs` && req.method === 'POST') {
      const b = JSON.parse(body);
      const run = { id: nextId++, app: { id: wire.app?.appId ?? 1, slug: 'x' }, name: b.name, head_sha: b.head_sha, status: b.status, conclusion: b.conclusion ?? null, output: b.output, details_url: b.details_url };
      wire.checkRuns.push(run);
      return json(res, 201, run);
    }
    if ((m = path.match(/^\/repos\/contoso\/landing-zones\/check-runs\/(\d+)$/)) && req.method === 'PATCH') {
      const run = wire.checkRuns.find((r) => r.id === Number(m![1]));
      if (!run) return json(res, 404, { message: 'Not Found' });
      Object.assign(run, JSON.parse(body));
      return json(res, 200, run);
    }
    return json(res, 404, { message: 'Not Found' });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => json(res, 500, { message: String(e) })); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  wire.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return wire;
}

// Shared pieces of the GitHub stand-in tests: a webhook receiver that checks every delivery's
// signature with @octokit/webhooks, a stand-in seeded with contoso/landing-zones, and real `git`
// in a scratch work tree (with no global or system config, so the machine's settings never leak in).
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhooks } from '@octokit/webhooks';
import { Octokit } from '@octokit/rest';
import { startGitHubStandIn, type GitHubStandIn } from '../../../scripts/sandbox/github/server.ts';
import { waitFor } from '../../helpers/wait.ts';

export interface Received { event: string; id: string; signature: string; verified: boolean; body: string; payload: any }

export interface Receiver {
  url: string;
  received: Received[];
  /** Answer 503 to the next n deliveries (to prove the stand-in retries). */
  failNext(n: number): void;
  next(pred: (r: Received) => boolean, what: string): Promise<Received>;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, port = 0): Promise<Receiver> {
  const webhooks = new Webhooks({ secret });
  const received: Received[] = [];
  let failing = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (failing > 0) {
        failing--;
        res.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['x-hub-signature-256'] ?? '');
      const verified = await webhooks.verify(body, signature).catch(() => false);
      received.push({
        event: String(req.headers['x-github-event']), id: String(req.headers['x-github-delivery']), signature, verified,
        body, payload: req.headers['content-type'] === 'application/json' ? JSON.parse(body) : undefined,
      });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => r());
  });
  const bound = (server.address() as { port: number }).port;
  const seen = new Set<Received>();
  return {
    url: `http://127.0.0.1:${bound}/webhooks/github`,
    received,
    failNext: (n) => {
      failing = n;
    },
    // Each delivery is handed out once, so consecutive waits for the same event see consecutive deliveries.
    next: (pred, what) =>
      waitFor(() => {
        const r = received.find((x) => !seen.has(x) && pred(x));
        if (r) seen.add(r);
        return r;
      }, { what, timeoutMs: 15_000 }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface Fixture {
  gh: GitHubStandIn;
  receiver: Receiver;
  secret: string;
  dataDir: string;
  octokit(login?: string): Octokit;
  /** Runs git in `cwd` as `who`; resolves to stdout. */
  git(cwd: string, args: string[], who?: { name: string; email: string }): Promise<string>;
  clone(login?: string): Promise<string>;
  stop(): Promise<void>;
}

const quiet = () => undefined;
const QUIET = { debug: quiet, info: quiet, warn: quiet, error: quiet };

export const ALICE = { name: 'Alice Adams', email: 'alice@contoso.com' };

export function runGit(cwd: string, args: string[], who = ALICE): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-c', `user.name=${who.name}`, '-c', `user.email=${who.email}`, '-c', 'init.defaultBranch=main', ...args], {
      cwd,
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
    }, (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
}

export async function startFixture(): Promise<Fixture> {
  const secret = 'test-secret-' + Math.random().toString(36).slice(2);
  const receiver = await startReceiver(secret);
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-standin-test-'));
  const gh = await startGitHubStandIn({ dataDir, webhook: { url: receiver.url, secret, backoffMs: 20 } });
  const seedDir = mkdtempSync(join(tmpdir(), 'gh-standin-seed-'));
  mkdirSync(join(seedDir, 'corp'), { recursive: true });
  writeFileSync(join(seedDir, 'corp', 'archetype.json'), JSON.stringify({ name: 'corp', policies: [] }, null, 2) + '\n');
  writeFileSync(join(seedDir, 'README.md'), '# Landing zones\n');
  await gh.seed('contoso/landing-zones', seedDir);
  const work = mkdtempSync(join(tmpdir(), 'gh-standin-work-'));
  let n = 0;
  return {
    gh, receiver, secret, dataDir,
    octokit: (login = 'nexus-bot') => new Octokit({ baseUrl: gh.apiUrl, auth: gh.tokenFor(login), log: QUIET }),
    git: runGit,
    clone: async (login = 'alice') => {
      const dir = join(work, `clone-${++n}`);
      await runGit(work, ['clone', '--quiet', gh.gitUrl('contoso', 'landing-zones', login), dir]);
      return dir;
    },
    stop: async function (this: Fixture) {
      await this.gh.stop();
      await receiver.close();
      for (const d of [dataDir, seedDir, work]) rmSync(d, { recursive: true, force: true });
    },
  };
}

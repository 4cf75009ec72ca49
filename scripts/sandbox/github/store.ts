// The stand-in's state besides the Git objects: users and their tokens, repositories' metadata,
// pull requests, reviews, issue comments and check runs. Kept in one JSON file under the data
// dir (written whole to a temporary file and renamed, so a crash never leaves half a file) and
// held in Maps in memory (keys come from requests).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface User { login: string; id: number; name: string; email: string; type: 'User' | 'Bot'; siteAdmin: boolean }
export interface RepoMeta { owner: string; name: string; id: number; defaultBranch: string; createdAt: string; pushedAt: string }
export interface PullRequest {
  repo: string; // owner/name
  number: number;
  id: number;
  title: string;
  body: string | null;
  user: string;
  head: string; // branch in the same repository
  base: string;
  headSha: string;
  draft: boolean;
  state: 'open' | 'closed';
  merged: boolean;
  mergedBy?: string;
  mergeCommitSha?: string;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
  mergedAt?: string;
}
export interface Review { id: number; repo: string; number: number; user: string; body: string; state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING'; commitId: string; submittedAt?: string }
export interface Comment { id: number; repo: string; number: number; user: string; body: string; createdAt: string; updatedAt: string }
export interface CheckRun {
  id: number; repo: string; name: string; headSha: string; status: string; conclusion: string | null;
  detailsUrl: string | null; externalId: string | null; startedAt: string | null; completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null }; app: string;
}

export interface CommitStatus { id: number; repo: string; sha: string; state: 'error' | 'failure' | 'pending' | 'success'; context: string; description: string | null; targetUrl: string | null; creator: string; createdAt: string; updatedAt: string }

interface Persisted {
  nextId: number;
  adminToken: string;
  users: User[];
  tokens: [string, string][];
  repos: RepoMeta[];
  pulls: PullRequest[];
  reviews: Review[];
  comments: Comment[];
  checkRuns: CheckRun[];
  statuses?: CommitStatus[];
}

export const DEFAULT_USERS: Omit<User, 'id'>[] = [
  { login: 'alice', name: 'Alice Adams', email: 'alice@contoso.com', type: 'User', siteAdmin: false },
  { login: 'bob', name: 'Bob Brown', email: 'bob@contoso.com', type: 'User', siteAdmin: false },
  { login: 'carol', name: 'Carol Clark', email: 'carol@contoso.com', type: 'User', siteAdmin: false },
  // The owner of the stand-in's main token: what Nexus acts as (comments, check runs).
  { login: 'nexus-bot', name: 'Nexus', email: 'nexus-bot@contoso.com', type: 'User', siteAdmin: true },
];
export const ADMIN_LOGIN = 'nexus-bot';

function readState(file: string): Partial<Persisted> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<Persisted>;
  } catch (e) {
    throw new Error(`${file} is not the stand-in's state (${(e as Error).message}): move it away to start afresh`);
  }
}

const newToken = () => `ghp_${randomBytes(18).toString('base64url')}`;

export class Store {
  readonly users = new Map<string, User>();
  /** token → login */
  readonly tokens = new Map<string, string>();
  readonly repos = new Map<string, RepoMeta>();
  readonly pulls: PullRequest[] = [];
  readonly reviews: Review[] = [];
  readonly comments: Comment[] = [];
  readonly checkRuns: CheckRun[] = [];
  readonly statuses: CommitStatus[] = [];
  adminToken: string;
  private nextId: number;
  private readonly file: string;

  constructor(dataDir: string, opts: { token?: string; users?: Omit<User, 'id'>[] } = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, 'state.json');
    const kept = existsSync(this.file) ? readState(this.file) : {};
    this.nextId = kept.nextId ?? 1000;
    for (const u of kept.users ?? []) this.users.set(u.login, u);
    for (const [t, login] of kept.tokens ?? []) this.tokens.set(t, login);
    for (const r of kept.repos ?? []) this.repos.set(`${r.owner}/${r.name}`, r);
    this.pulls.push(...(kept.pulls ?? []));
    this.reviews.push(...(kept.reviews ?? []));
    this.comments.push(...(kept.comments ?? []));
    this.checkRuns.push(...(kept.checkRuns ?? []));
    this.statuses.push(...(kept.statuses ?? []));
    for (const u of [...DEFAULT_USERS, ...(opts.users ?? [])]) this.addUser(u);
    this.adminToken = opts.token ?? kept.adminToken ?? newToken();
    this.tokens.set(this.adminToken, ADMIN_LOGIN);
    this.save();
  }

  id(): number {
    return this.nextId++;
  }

  addUser(u: Omit<User, 'id'>): User {
    const known = this.users.get(u.login);
    if (known) return known;
    const user = { ...u, id: this.id() };
    this.users.set(u.login, user);
    this.tokens.set(newToken(), u.login);
    return user;
  }

  /** A token that acts as `login` (made on first use). */
  tokenFor(login: string): string {
    if (!this.users.has(login)) throw new Error(`the stand-in knows no user ${login}`);
    if (login === ADMIN_LOGIN) return this.adminToken;
    for (const [t, l] of this.tokens) if (l === login && t !== this.adminToken) return t;
    const t = newToken();
    this.tokens.set(t, login);
    this.save();
    return t;
  }

  userByEmail(email: string): User | undefined {
    const e = email.toLowerCase();
    for (const u of this.users.values()) if (u.email.toLowerCase() === e) return u;
    return undefined;
  }

  pull(repo: string, number: number): PullRequest | undefined {
    return this.pulls.find((p) => p.repo === repo && p.number === number);
  }

  /** Pull request and issue numbers share one sequence per repository, as on GitHub. */
  nextNumber(repo: string): number {
    return this.pulls.filter((p) => p.repo === repo).reduce((n, p) => Math.max(n, p.number), 0) + 1;
  }

  save(): void {
    const data: Persisted = {
      nextId: this.nextId,
      adminToken: this.adminToken,
      users: [...this.users.values()],
      tokens: [...this.tokens],
      repos: [...this.repos.values()],
      pulls: this.pulls,
      reviews: this.reviews,
      comments: this.comments,
      checkRuns: this.checkRuns,
      statuses: this.statuses,
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 1), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

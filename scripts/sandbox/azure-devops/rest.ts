// The Azure DevOps REST routes the stand-in serves: the location service (how azure-devops-node-api
// finds each route), Git refs, commits, the items zip, commit diffs, pull requests with their
// threads, comments, statuses and reviewers. Shapes follow the public REST reference (api 7.x).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { aheadBehind, archiveZip, lsEntry, readCommit, refs, resolve, revList, safeName } from './git.ts';
import { STANDIN_USER, commitJson, guidOf, pullRequestJson, repositoryJson, type Identity, type PullRequest, type RepoKey, type Thread } from './model.ts';
import { AdoState, HttpError, sameRepo } from './state.ts';
import { createPush } from './pushes.ts';

export interface Reply {
  status: number;
  json?: unknown;
  bytes?: { type: string; body: Buffer };
}

// azure-devops-node-api sends enums as numbers; ADO answers with their names.
const STATUS_STATES = ['notSet', 'pending', 'succeeded', 'failed', 'error', 'notApplicable', 'partiallySucceeded'];
const THREAD_STATES = ['unknown', 'active', 'fixed', 'wontFix', 'closed', 'byDesign', 'pending'];
function enumName(v: unknown, names: string[], field: string): string {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return names[v];
  if (typeof v === 'string' && names.includes(v)) return v;
  throw new HttpError(400, `${field}: '${String(v)}' is not one of ${names.join(', ')}`);
}

const ok = (json: unknown, status = 200): Reply => ({ status, json });
const list = (value: unknown[]): Reply => ok({ count: value.length, value });

/** [location id, resource name, route template] of the git area (azure-devops-node-api looks these up by id). */
const GIT_LOCATIONS: [string, string, string][] = [
  ['225f7195-f9c7-4d14-ab28-a83f7ff77e1f', 'repositories', '{project}/_apis/{area}/{resource}/{repositoryId}'],
  ['2d874a60-a811-4f62-9c9f-963a6ea0a55b', 'refs', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*filter}'],
  ['c2570c3b-5b3f-41b8-98bf-5407bfde8d58', 'commits', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{commitId}'],
  ['fb93c0db-47ed-4a31-8c20-47552878fb44', 'items', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*path}'],
  ['615588d5-c0c7-4b88-88f8-e625306446e8', 'commits', '{project}/_apis/{area}/repositories/{repositoryId}/diffs/{resource}'],
  ['01a46dea-7d46-4d40-bc84-319e7c260d99', 'pullRequests', '{project}/_apis/{area}/{resource}/{pullRequestId}'],
  ['9946fd70-0d40-406e-b686-b4744cbbcc37', 'pullRequests', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}'],
  ['ab6e2e5d-a0b7-4153-b64a-a4efe0d49449', 'threads', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{threadId}'],
  ['965a3ec7-5ed8-455a-bdcb-835a5ea7fe7b', 'comments', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/threads/{threadId}/{resource}/{commentId}'],
  ['b5f6bb4f-8d1e-4d79-8d11-4c9172c99c35', 'statuses', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{statusId}'],
  ['ea98d07b-3c87-4971-8ede-a613694ffb55', 'pushes', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pushId}'],
  ['4b6702c7-aa35-4b89-9c96-b9abf6d3e540', 'reviewers', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{reviewerId}'],
];
const LOCATION_LOCATIONS: [string, string, string][] = [
  ['e81700f7-3be2-46de-8624-2eb35882fcaa', 'ResourceAreas', '_apis/{resource}/{areaId}'],
];

/** OPTIONS {org}/_apis/{area}: the area's resource locations. */
export function locations(area: string): Reply {
  const table = area.toLowerCase() === 'git' ? GIT_LOCATIONS : area.toLowerCase() === 'location' ? LOCATION_LOCATIONS : [];
  const areaName = area.toLowerCase() === 'git' ? 'git' : 'Location';
  return list(table.map(([id, resourceName, routeTemplate]) => ({
    id, area: areaName, resourceName, routeTemplate, resourceVersion: 2, minVersion: '1.0', maxVersion: '7.2', releasedVersion: '7.1',
  })));
}

/** ADO's version descriptor types (names or the numbers azure-devops-node-api sends). */
function versionName(version: string | null, type: string | null): string | undefined {
  if (!version) return undefined;
  const t = (type ?? 'branch').toLowerCase();
  if (t === 'commit' || t === '2') return version;
  if (t === 'tag' || t === '1') return `refs/tags/${version}`;
  if (t === 'branch' || t === '0') return `refs/heads/${version}`;
  throw new HttpError(400, `versionType: '${type}' is not branch, tag or commit`);
}

async function mustResolve(state: AdoState, k: RepoKey, name: string | undefined, field: string): Promise<string> {
  const sha = name ? await resolve(state.dir(k), name) : undefined;
  if (!sha) throw new HttpError(404, `${field}: '${name ?? ''}' does not resolve to a commit`, 'GitUnresolvableToCommitException');
  return sha;
}

function intParam(q: URLSearchParams, names: string[], dflt: number, max: number): number {
  for (const n of names) {
    const v = q.get(n);
    if (v === null) continue;
    const i = Number(v);
    if (!Number.isInteger(i) || i < 0) throw new HttpError(400, `${n}: expected a non-negative integer`);
    return Math.min(i, max);
  }
  return dflt;
}

/** Routes under {org}/{project}/_apis/git/; `rest` is the path after that. */
export async function gitRoute(state: AdoState, org: string, project: string, method: string, rest: string[], q: URLSearchParams, body: unknown, accept: string): Promise<Reply> {
  const base = state.base();
  const seg = rest.map((s) => s.toLowerCase());
  if (seg[0] === 'pullrequests' && seg.length === 2 && method === 'GET') {
    const pr = findPr(state, Number(rest[1]), undefined);
    if (!sameProject(pr.key, org, project)) throw notFoundPr(rest[1]);
    return ok(pullRequestJson(base, pr));
  }
  if (seg[0] !== 'repositories' || !rest[1]) throw new HttpError(404, `no route for ${rest.join('/')}`, 'RouteNotFound');
  const k = repoKey(state, org, project, rest[1]);
  const dir = state.dir(k);
  const r = seg.slice(2);
  if (r.length === 0 && method === 'GET') return ok(repositoryJson(base, k));
  if (r[0] === 'refs' && method === 'GET') {
    const filter = q.get('filter') ?? '';
    const all = await refs(dir);
    const value = [...all].filter(([name]) => name.startsWith('refs/') && name.slice(5).startsWith(filter) && !name.startsWith('refs/pull/'))
      .map(([name, objectId]) => ({ name, objectId, creator: STANDIN_USER, url: `${repositoryJson(base, k).url}/refs?filter=${encodeURIComponent(name.slice(5))}` }));
    return list(value);
  }
  if (r[0] === 'commits' && method === 'GET') {
    if (r[1]) {
      const c = /^[0-9a-f]{4,40}$/i.test(rest[3]) ? await readCommit(dir, rest[3]) : undefined;
      if (!c) throw new HttpError(404, `commit ${rest[3]} does not exist`, 'GitCommitDoesNotExistException');
      return ok(commitJson(base, k, c));
    }
    const item = versionName(q.get('searchCriteria.itemVersion.version'), q.get('searchCriteria.itemVersion.versionType'));
    const compare = versionName(q.get('searchCriteria.compareVersion.version'), q.get('searchCriteria.compareVersion.versionType'));
    const top = intParam(q, ['searchCriteria.$top', '$top'], 100, 10000);
    const skip = intParam(q, ['searchCriteria.$skip', '$skip'], 0, 1_000_000);
    const itemSha = await mustResolve(state, k, item ?? 'HEAD', 'searchCriteria.itemVersion');
    // compareVersion: walk history from it, stopping at what itemVersion reaches (commits in compare, not in item).
    const shas = compare
      ? await revList(dir, await mustResolve(state, k, compare, 'searchCriteria.compareVersion'), itemSha, skip + top)
      : await revList(dir, itemSha, undefined, skip + top);
    const value = [];
    for (const sha of shas.slice(skip)) {
      const c = await readCommit(dir, sha);
      if (c) value.push(commitJson(base, k, c));
    }
    return list(value);
  }
  if (r[0] === 'items' && method === 'GET') return items(state, k, q, accept);
  if (r[0] === 'diffs' && r[1] === 'commits' && method === 'GET') {
    const baseSha = await mustResolve(state, k, versionName(q.get('baseVersion'), q.get('baseVersionType')), 'baseVersion');
    const targetSha = await mustResolve(state, k, versionName(q.get('targetVersion'), q.get('targetVersionType')), 'targetVersion');
    const ab = await aheadBehind(dir, baseSha, targetSha);
    return ok({
      allChangesIncluded: true, changeCounts: {}, changes: [],
      aheadCount: ab.ahead, behindCount: ab.behind,
      baseCommit: baseSha, targetCommit: targetSha, ...(ab.common ? { commonCommit: ab.common } : {}),
    });
  }
  if (r[0] === 'pushes' && r.length === 1 && method === 'POST') return createPush(state, k, body);
  if (r[0] === 'pullrequests') return pullRequestRoute(state, k, method, rest.slice(3), seg.slice(3), body, q);
  throw new HttpError(404, `no route for ${method} ${rest.join('/')}`, 'RouteNotFound');
}

async function items(state: AdoState, k: RepoKey, q: URLSearchParams, accept: string): Promise<Reply> {
  const zip = q.get('$format')?.toLowerCase() === 'zip' || accept.toLowerCase().includes('application/zip');
  if (!zip) return itemJson(state, k, q);
  const raw = q.get('path') ?? q.get('scopePath') ?? '/';
  const path = raw.replace(/^\/+|\/+$/g, '');
  if (path.split('/').some((p) => p === '..' || p === '.') || raw.includes('\0')) throw new HttpError(400, `path: '${raw}' is not a repository path`);
  const version = versionName(q.get('versionDescriptor.version'), q.get('versionDescriptor.versionType')) ?? 'refs/heads/main';
  const sha = await mustResolve(state, k, version, 'versionDescriptor.version');
  try {
    return { status: 200, bytes: { type: 'application/zip', body: await archiveZip(state.dir(k), sha, path) } };
  } catch {
    throw new HttpError(404, `path: '${raw}' does not exist at ${sha}`, 'GitItemNotFoundException');
  }
}

/** One item's metadata (GitItem: objectId, gitObjectType, commitId, path); 404 when the path is not there. */
async function itemJson(state: AdoState, k: RepoKey, q: URLSearchParams): Promise<Reply> {
  const raw = q.get('path') ?? '';
  const path = raw.replace(/^\/+|\/+$/g, '');
  if (!path || path.split('/').some((p) => p === '..' || p === '.') || raw.includes('\0')) throw new HttpError(400, `path: '${raw}' is not a repository path`);
  const version = versionName(q.get('versionDescriptor.version'), q.get('versionDescriptor.versionType')) ?? 'refs/heads/main';
  const sha = await mustResolve(state, k, version, 'versionDescriptor.version');
  const out = await lsEntry(state.dir(k), sha, path);
  if (!out) throw new HttpError(404, `TF401174: the item '/${path}' could not be found at ${sha}`, 'GitItemNotFoundException');
  return ok({ objectId: out.sha, gitObjectType: out.type, commitId: sha, path: `/${path}`, isFolder: out.type === 'tree', url: `${repositoryJson(state.base(), k).url}/items?path=${encodeURIComponent(`/${path}`)}` });
}

function findPr(state: AdoState, id: number, k: RepoKey | undefined): PullRequest {
  const pr = Number.isInteger(id) ? state.prs.get(id) : undefined;
  if (!pr || (k && !sameRepo(pr.key, k))) throw notFoundPr(String(id));
  return pr;
}

const notFoundPr = (id: string) => new HttpError(404, `pull request ${id} does not exist`, 'GitPullRequestNotFoundException');

function sameProject(k: RepoKey, org: string, project: string): boolean {
  return k.org.toLowerCase() === org.toLowerCase() && (k.project.toLowerCase() === project.toLowerCase() || guidOf('project', k.org, k.project) === project);
}

/** A repository by name or by its GUID (the `url`s the stand-in hands out carry the GUID). */
function repoKey(state: AdoState, org: string, project: string, repo: string): RepoKey {
  let k = { org, project, repo };
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(repo)) {
    const names = existsSync(join(state.root, org, project)) ? readdirSync(join(state.root, org, project)) : [];
    const name = names.map((n) => n.replace(/\.git$/, '')).find((n) => guidOf('repo', org, project, n) === repo.toLowerCase());
    if (name) k = { org, project, repo: name };
  }
  if (!safeName(k.repo) || !existsSync(state.dir(k))) throw new HttpError(404, `repository ${org}/${project}/${repo} does not exist`, 'GitRepositoryNotFoundException');
  return k;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

const PR_STATUSES = ['notSet', 'active', 'abandoned', 'completed', 'all'];

/** GET .../pullRequests: searchCriteria.status (active by default; all), sourceRefName, targetRefName; newest first. */
function searchPullRequests(state: AdoState, k: RepoKey, q: URLSearchParams): PullRequest[] {
  const raw = q.get('searchCriteria.status');
  const status = raw === null ? 'active' : enumName(/^\d+$/.test(raw) ? Number(raw) : raw, PR_STATUSES, 'searchCriteria.status');
  const source = q.get('searchCriteria.sourceRefName');
  const target = q.get('searchCriteria.targetRefName');
  return [...state.prs.values()]
    .filter((p) => sameRepo(p.key, k) && (status === 'all' || status === 'notSet' ? true : p.status === status))
    .filter((p) => (!source || p.sourceRefName === source) && (!target || p.targetRefName === target))
    .sort((a, b) => b.pullRequestId - a.pullRequestId);
}

async function pullRequestRoute(state: AdoState, k: RepoKey, method: string, rest: string[], seg: string[], body: unknown, query: URLSearchParams): Promise<Reply> {
  const base = state.base();
  const b = obj(body);
  if (seg.length === 0) {
    if (method === 'POST') return ok(pullRequestJson(base, await state.createPullRequest(k, b, STANDIN_USER)), 201);
    if (method === 'GET') return list(searchPullRequests(state, k, query).map((p) => pullRequestJson(base, p)));
  }
  const pr = findPr(state, Number(rest[0]), k);
  const now = () => new Date().toISOString();
  if (seg.length === 1) {
    if (method === 'GET') return ok(pullRequestJson(base, pr));
    if (method === 'PATCH') {
      await state.updatePullRequest(pr, b, STANDIN_USER);
      return ok(pullRequestJson(base, pr));
    }
  }
  if (seg[1] === 'threads') {
    if (seg.length === 2 && method === 'GET') return list(pr.threads);
    if (seg.length === 2 && method === 'POST') {
      const comments = Array.isArray(b.comments) ? b.comments.map(obj) : [];
      if (comments.length === 0 || typeof comments[0].content !== 'string') throw new HttpError(400, 'comments[0].content: a thread needs a first comment');
      const t: Thread = {
        id: state.id(), status: enumName(b.status ?? 'active', THREAD_STATES, 'status'), properties: properties(b.properties),
        comments: comments.map((c, i) => ({ id: i + 1, parentCommentId: 0, author: STANDIN_USER, content: String(c.content ?? ''), publishedDate: now(), lastUpdatedDate: now(), commentType: 'text' })),
        publishedDate: now(), lastUpdatedDate: now(),
      };
      pr.threads.push(t);
      return ok(t);
    }
    const t = pr.threads.find((x) => x.id === Number(rest[2]));
    if (!t) throw new HttpError(404, `thread ${rest[2]} does not exist`, 'GitPullRequestCommentThreadNotFoundException');
    if (seg.length === 3 && method === 'GET') return ok(t);
    if (seg.length === 3 && method === 'PATCH') {
      if (b.status !== undefined) t.status = enumName(b.status, THREAD_STATES, 'status');
      if (b.properties !== undefined) Object.assign(t.properties, properties(b.properties));
      t.lastUpdatedDate = now();
      return ok(t);
    }
    if (seg[3] === 'comments' && seg.length === 5 && method === 'PATCH') {
      const c = t.comments.find((x) => x.id === Number(rest[4]));
      if (!c) throw new HttpError(404, `comment ${rest[4]} does not exist`, 'GitPullRequestCommentNotFoundException');
      if (typeof b.content !== 'string') throw new HttpError(400, 'content: expected the comment text');
      c.content = b.content;
      c.lastUpdatedDate = now();
      t.lastUpdatedDate = c.lastUpdatedDate;
      return ok(c);
    }
  }
  if (seg[1] === 'statuses') {
    if (seg.length === 2 && method === 'GET') return list(pr.statuses);
    if (seg.length === 2 && method === 'POST') {
      const ctx = obj(b.context);
      if (typeof ctx.name !== 'string' || !ctx.name) throw new HttpError(400, 'context.name: a status needs a name');
      if (b.state === undefined) throw new HttpError(400, 'state: a status needs a state');
      const s = {
        id: state.id(), state: enumName(b.state, STATUS_STATES, 'state'), context: { name: ctx.name, ...(typeof ctx.genre === 'string' ? { genre: ctx.genre } : {}) },
        ...(typeof b.description === 'string' ? { description: b.description } : {}),
        ...(typeof b.targetUrl === 'string' ? { targetUrl: b.targetUrl } : {}),
        iterationId: typeof b.iterationId === 'number' ? b.iterationId : pr.iteration,
        creationDate: now(), updatedDate: now(), createdBy: STANDIN_USER,
      };
      pr.statuses.push(s);
      return ok(s);
    }
  }
  if (seg[1] === 'reviewers') {
    if (seg.length === 2 && method === 'GET') return list(pr.reviewers);
    if (seg.length === 3 && method === 'PUT') {
      if (typeof b.vote !== 'number' || ![-10, -5, 0, 5, 10].includes(b.vote)) throw new HttpError(400, 'vote: one of 10, 5, 0, -5, -10');
      const who: Identity = {
        id: rest[2],
        displayName: typeof b.displayName === 'string' ? b.displayName : rest[2],
        uniqueName: typeof b.uniqueName === 'string' ? b.uniqueName : rest[2],
      };
      state.vote(pr, who, b.vote);
      return ok(pr.reviewers.find((r) => r.id === who.id));
    }
  }
  throw new HttpError(404, `no route for ${method} pullRequests/${rest.join('/')}`, 'RouteNotFound');
}

/** Thread properties arrive as `{key: value}` or `{key: {$type, $value}}`; kept as the latter (ADO's PropertiesCollection). */
function properties(v: unknown): Thread['properties'] {
  const out: Thread['properties'] = Object.create(null);
  for (const [key, value] of Object.entries(obj(v))) {
    const o = obj(value);
    out[key] = Object.hasOwn(o, '$value') ? { $type: String(o.$type ?? 'System.String'), $value: o.$value } : { $type: typeof value === 'number' ? 'System.Int32' : 'System.String', $value: value };
  }
  return out;
}

// The GitHost port's writes over GitHub's REST API: a commit made with the Git data API (blobs, a
// tree on the base commit's tree, the commit, the branch ref created or moved) and pull requests
// (list by head, create, edit, close). Used for Nexus's own branches (drift pull requests).
import type { Octokit } from '@octokit/rest';
import type { CommitFilesRequest, PullRequestInfo, PullRequestUpdate } from './types.ts';

type Raw = Record<string, any>;
/** Runs one request with the adapter's error mapping; `ref` makes a 404 a GitRefNotFoundError. */
export type GitHubCall = <T>(what: string, ref: string | undefined, fn: (o: Octokit, signal: AbortSignal) => Promise<T>) => Promise<T>;
export interface GitHubRepoParams { owner: string; repo: string }

/** A REST pull request (GET pulls/{n}, each of GET pulls) → PullRequestInfo. */
export function pullRequestInfo(pr: Raw): PullRequestInfo {
  const merged = pr.merged === true || !!pr.merged_at;
  return {
    number: pr.number,
    state: merged ? 'merged' : pr.state === 'closed' ? 'closed' : 'open',
    draft: pr.draft === true,
    headRef: pr.head.ref,
    baseRef: pr.base.ref,
    headSha: pr.head.sha,
    ...(merged && pr.merge_commit_sha ? { mergeCommitSha: pr.merge_commit_sha } : {}),
    title: pr.title,
    url: pr.html_url,
    // GitHub gives null for an empty body.
    ...(typeof pr.body === 'string' ? { body: pr.body } : {}),
  };
}

export async function commitFiles(call: GitHubCall, r: GitHubRepoParams, req: CommitFilesRequest, currentHead: string | undefined): Promise<string> {
  const path = (rest: string) => `/repos/${r.owner}/${r.repo}${rest}`;
  const baseTree = await call(`GET ${path(`/git/commits/${req.base}`)}`, req.base, async (o, signal) =>
    (await o.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...r, commit_sha: req.base, request: { signal } })).data.tree.sha);
  const entries: { path: string; mode: '100644'; type: 'blob'; sha: string | null }[] = [];
  for (const f of req.files) {
    if (f.content === null) {
      entries.push({ path: f.path, mode: '100644', type: 'blob', sha: null });
      continue;
    }
    const content = f.content;
    const blob = await call(`POST ${path('/git/blobs')}`, undefined, async (o, signal) =>
      (await o.request('POST /repos/{owner}/{repo}/git/blobs', { ...r, content: Buffer.from(content, 'utf8').toString('base64'), encoding: 'base64', request: { signal } })).data.sha);
    entries.push({ path: f.path, mode: '100644', type: 'blob', sha: blob });
  }
  const tree = await call(`POST ${path('/git/trees')}`, undefined, async (o, signal) =>
    (await o.request('POST /repos/{owner}/{repo}/git/trees', { ...r, base_tree: baseTree, tree: entries, request: { signal } })).data.sha);
  const sha = await call(`POST ${path('/git/commits')}`, undefined, async (o, signal) =>
    (await o.request('POST /repos/{owner}/{repo}/git/commits', { ...r, message: req.message, tree, parents: [req.base], request: { signal } })).data.sha);
  if (currentHead === undefined) {
    await call(`POST ${path('/git/refs')}`, undefined, (o, signal) =>
      o.request('POST /repos/{owner}/{repo}/git/refs', { ...r, ref: `refs/heads/${req.branch}`, sha, request: { signal } }));
  } else {
    await call(`PATCH ${path(`/git/refs/heads/${req.branch}`)}`, req.branch, (o, signal) =>
      o.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', { ...r, ref: `heads/${req.branch}`, sha, force: req.force === true, request: { signal } }));
  }
  return sha;
}

export async function findPullRequest(call: GitHubCall, r: GitHubRepoParams, q: { head: string; state: 'open' | 'all' }): Promise<PullRequestInfo | undefined> {
  const list = await call(`GET /repos/${r.owner}/${r.repo}/pulls`, undefined, async (o, signal) =>
    (await o.request('GET /repos/{owner}/{repo}/pulls', { ...r, head: `${r.owner}:${q.head}`, state: q.state, sort: 'created', direction: 'desc', per_page: 100, request: { signal } })).data);
  const found = list.map((p) => pullRequestInfo(p as Raw)).filter((p) => p.headRef === q.head);
  // Open first, then the newest: the one a sync keeps working on.
  found.sort((a, b) => (a.state === 'open' ? 0 : 1) - (b.state === 'open' ? 0 : 1) || b.number - a.number);
  return found[0];
}

export async function openPullRequest(call: GitHubCall, r: GitHubRepoParams, req: { head: string; base: string; title: string; body: string }): Promise<PullRequestInfo> {
  return call(`POST /repos/${r.owner}/${r.repo}/pulls`, undefined, async (o, signal) =>
    pullRequestInfo((await o.request('POST /repos/{owner}/{repo}/pulls', { ...r, head: req.head, base: req.base, title: req.title, body: req.body, request: { signal } })).data as Raw));
}

export async function updatePullRequest(call: GitHubCall, r: GitHubRepoParams, n: number, change: PullRequestUpdate): Promise<PullRequestInfo> {
  return call(`PATCH /repos/${r.owner}/${r.repo}/pulls/${n}`, undefined, async (o, signal) =>
    pullRequestInfo((await o.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
      ...r, pull_number: n,
      ...(change.title !== undefined ? { title: change.title } : {}),
      ...(change.body !== undefined ? { body: change.body } : {}),
      ...(change.state ? { state: change.state } : {}),
      request: { signal },
    })).data as Raw));
}

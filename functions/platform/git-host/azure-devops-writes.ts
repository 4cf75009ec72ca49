// The GitHost port's writes over Azure DevOps Repos (azure-devops-node-api): a commit made with one
// push (refUpdates + commits[].changes: add, edit, delete) and pull requests (search by source
// branch, create, edit, abandon). Used for Nexus's own branches (drift pull requests).
import type { IGitApi } from 'azure-devops-node-api/GitApi.js';
import * as GI from 'azure-devops-node-api/interfaces/GitInterfaces.js';
import { GitRefNotFoundError, type CommitFilesRequest, type PullRequestInfo, type PullRequestUpdate } from './types.ts';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** Runs one call with the adapter's error mapping. */
export type AdoCall = <T>(what: string, fn: (git: IGitApi) => Promise<T>) => Promise<T>;
export interface AdoRepoParams { project: string; repo: string }

export class BranchMovedError extends Error {
  constructor(readonly branch: string, readonly head: string, readonly base: string) {
    super(`branch ${branch} is at ${head}, not ${base}: refusing to move it without force`);
    this.name = 'BranchMovedError';
  }
}

/** Whether `path` exists at `commit` (ADO needs `add` for new files, `edit` for existing ones). */
async function exists(call: AdoCall, r: AdoRepoParams, path: string, commit: string): Promise<boolean> {
  try {
    const item = await call(`item ${path} at ${commit}`, (g) => g.getItem(r.repo, path, r.project, undefined, undefined, false, false, false,
      { version: commit, versionType: GI.GitVersionType.Commit }));
    return !!item?.objectId;
  } catch (e) {
    if (e instanceof GitRefNotFoundError) return false;
    throw e;
  }
}

/** Whether `ancestor` is reachable from `commit` (the branch moves forward only then). */
async function isAncestor(call: AdoCall, r: AdoRepoParams, ancestor: string, commit: string): Promise<boolean> {
  const d = await call(`compare ${ancestor}...${commit}`, (g) => g.getCommitDiffs(r.repo, r.project, true, 1, 0,
    { version: ancestor, versionType: GI.GitVersionType.Commit }, { version: commit, versionType: GI.GitVersionType.Commit }));
  return (d?.behindCount ?? 1) === 0;
}

export async function commitFiles(call: AdoCall, r: AdoRepoParams, req: CommitFilesRequest, currentHead: string | undefined): Promise<string> {
  // ADO's push API moves a ref wherever its lease allows; GitHub's refuses a non-fast-forward without force: the port is GitHub's.
  if (currentHead !== undefined && currentHead !== req.base && !req.force && !(await isAncestor(call, r, currentHead, req.base))) {
    throw new BranchMovedError(req.branch, currentHead, req.base);
  }
  const changes: GI.GitChange[] = [];
  for (const f of req.files) {
    const path = `/${f.path.replace(/^\/+/, '')}`;
    const there = await exists(call, r, path, req.base);
    if (f.content === null) {
      if (there) changes.push({ changeType: GI.VersionControlChangeType.Delete, item: { path } });
      continue;
    }
    changes.push({
      changeType: there ? GI.VersionControlChangeType.Edit : GI.VersionControlChangeType.Add,
      item: { path },
      newContent: { content: f.content, contentType: GI.ItemContentType.RawText },
    });
  }
  const push = await call(`push to ${req.branch}`, (g) => g.createPush({
    // oldObjectId is a lease: the push fails when the branch moved since it was read.
    refUpdates: [{ name: `refs/heads/${req.branch}`, oldObjectId: currentHead ?? ZERO_SHA }],
    commits: [{ comment: req.message, parents: [req.base], changes }],
  }, r.repo, r.project));
  const sha = push?.commits?.[push.commits.length - 1]?.commitId ?? push?.refUpdates?.[0]?.newObjectId;
  if (!sha) throw new Error(`Azure DevOps accepted the push to ${req.branch} but named no commit`);
  return sha;
}

export function pullRequestInfo(pr: GI.GitPullRequest, orgUrl: string, r: AdoRepoParams): PullRequestInfo {
  const state = pr.status === GI.PullRequestStatus.Completed ? 'merged' : pr.status === GI.PullRequestStatus.Abandoned ? 'closed' : 'open';
  const n = pr.pullRequestId ?? 0;
  return {
    number: n,
    state,
    draft: pr.isDraft === true,
    headRef: (pr.sourceRefName ?? '').replace(/^refs\/heads\//, ''),
    baseRef: (pr.targetRefName ?? '').replace(/^refs\/heads\//, ''),
    headSha: pr.lastMergeSourceCommit?.commitId ?? '',
    ...(state === 'merged' && pr.lastMergeCommit?.commitId ? { mergeCommitSha: pr.lastMergeCommit.commitId } : {}),
    title: pr.title ?? '',
    url: `${orgUrl}/${encodeURIComponent(r.project)}/_git/${encodeURIComponent(r.repo)}/pullrequest/${n}`,
    body: pr.description ?? '',
  };
}

export async function findPullRequest(call: AdoCall, orgUrl: string, r: AdoRepoParams, q: { head: string; state: 'open' | 'all' }): Promise<PullRequestInfo | undefined> {
  const sourceRefName = `refs/heads/${q.head}`;
  const list = await call(`pull requests from ${q.head}`, (g) => g.getPullRequests(r.repo, {
    sourceRefName, status: q.state === 'open' ? GI.PullRequestStatus.Active : GI.PullRequestStatus.All,
  }, r.project, undefined, 0, 100));
  const found = (list ?? []).filter((p) => p.sourceRefName === sourceRefName).map((p) => pullRequestInfo(p, orgUrl, r));
  found.sort((a, b) => (a.state === 'open' ? 0 : 1) - (b.state === 'open' ? 0 : 1) || b.number - a.number);
  return found[0];
}

export async function openPullRequest(call: AdoCall, orgUrl: string, r: AdoRepoParams, req: { head: string; base: string; title: string; body: string }): Promise<PullRequestInfo> {
  const pr = await call(`pull request from ${req.head}`, (g) => g.createPullRequest({
    sourceRefName: `refs/heads/${req.head}`, targetRefName: `refs/heads/${req.base}`, title: req.title, description: req.body,
  }, r.repo, r.project));
  if (!pr?.pullRequestId) throw new Error(`Azure DevOps created no pull request from ${req.head}`);
  return pullRequestInfo(pr, orgUrl, r);
}

export async function updatePullRequest(call: AdoCall, orgUrl: string, r: AdoRepoParams, n: number, change: PullRequestUpdate): Promise<PullRequestInfo> {
  const pr = await call(`pull request ${n}`, (g) => g.updatePullRequest({
    ...(change.title !== undefined ? { title: change.title } : {}),
    ...(change.body !== undefined ? { description: change.body } : {}),
    ...(change.state === 'closed' ? { status: GI.PullRequestStatus.Abandoned } : {}),
  }, r.repo, n, r.project));
  if (!pr?.pullRequestId) throw new GitRefNotFoundError(`pull request ${n}`);
  return pullRequestInfo(pr, orgUrl, r);
}

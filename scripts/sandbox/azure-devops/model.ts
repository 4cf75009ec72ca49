// What the Azure DevOps stand-in keeps (repositories, pull requests with their threads, statuses and
// reviewers) and the JSON shapes it serves them in (the public REST API's GitRepository, GitCommitRef,
// GitPullRequest, ...). Held per stand-in instance, in memory: Git data lives in the bare repositories.
import { createHash } from 'node:crypto';
import type { RawCommit } from './git.ts';

/** A stable GUID for a name (ADO gives projects and repositories GUIDs). */
export function guidOf(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('/')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface Identity {
  id: string;
  displayName: string;
  uniqueName: string;
}

export interface RepoKey {
  org: string;
  project: string;
  repo: string;
}

export interface Comment {
  id: number;
  parentCommentId: number;
  author: Identity;
  content: string;
  publishedDate: string;
  lastUpdatedDate: string;
  commentType: string;
}

export interface Thread {
  id: number;
  status: string | number;
  properties: Record<string, { $type: string; $value: unknown }>;
  comments: Comment[];
  publishedDate: string;
  lastUpdatedDate: string;
}

export interface Status {
  id: number;
  state: string | number;
  description?: string;
  context: { name: string; genre?: string };
  targetUrl?: string;
  iterationId: number;
  creationDate: string;
  updatedDate: string;
  createdBy: Identity;
}

export interface Reviewer extends Identity {
  vote: number;
  isRequired?: boolean;
  reviewerUrl?: string;
}

export interface PullRequest {
  key: RepoKey;
  pullRequestId: number;
  status: 'active' | 'abandoned' | 'completed';
  isDraft: boolean;
  title: string;
  description: string;
  sourceRefName: string;
  targetRefName: string;
  createdBy: Identity;
  creationDate: string;
  closedDate?: string;
  lastMergeSourceCommit: string;
  lastMergeTargetCommit: string;
  lastMergeCommit?: string;
  mergeStatus: 'succeeded' | 'conflicts';
  iteration: number;
  threads: Thread[];
  statuses: Status[];
  reviewers: Reviewer[];
}

/** The identity requests act as (a PAT belongs to one user). */
export const STANDIN_USER: Identity = {
  id: guidOf('user', 'nexus'),
  displayName: 'Nexus Stand-in User',
  uniqueName: 'nexus@contoso.example',
};

export function repositoryJson(base: string, k: RepoKey) {
  const id = guidOf('repo', k.org, k.project, k.repo);
  return {
    id,
    name: k.repo,
    url: `${base}/${k.org}/${k.project}/_apis/git/repositories/${id}`,
    project: { id: guidOf('project', k.org, k.project), name: k.project, state: 'wellFormed', visibility: 'private' },
    defaultBranch: 'refs/heads/main',
    remoteUrl: `${base}/${k.org}/${k.project}/_git/${k.repo}`,
    webUrl: `${base}/${k.org}/${k.project}/_git/${k.repo}`,
  };
}

export function commitJson(base: string, k: RepoKey, c: RawCommit) {
  const repo = repositoryJson(base, k);
  return {
    commitId: c.commitId,
    treeId: c.treeId,
    parents: c.parents,
    author: c.author,
    committer: c.committer,
    comment: c.comment,
    commentTruncated: false,
    url: `${repo.url}/commits/${c.commitId}`,
    remoteUrl: `${repo.remoteUrl}/commit/${c.commitId}`,
  };
}

export function pullRequestJson(base: string, pr: PullRequest) {
  const repo = repositoryJson(base, pr.key);
  return {
    repository: repo,
    pullRequestId: pr.pullRequestId,
    codeReviewId: pr.pullRequestId,
    status: pr.status,
    createdBy: pr.createdBy,
    creationDate: pr.creationDate,
    ...(pr.closedDate ? { closedDate: pr.closedDate } : {}),
    title: pr.title,
    description: pr.description,
    sourceRefName: pr.sourceRefName,
    targetRefName: pr.targetRefName,
    mergeStatus: pr.mergeStatus,
    isDraft: pr.isDraft,
    mergeId: guidOf('merge', String(pr.pullRequestId), pr.lastMergeSourceCommit),
    lastMergeSourceCommit: { commitId: pr.lastMergeSourceCommit, url: `${repo.url}/commits/${pr.lastMergeSourceCommit}` },
    lastMergeTargetCommit: { commitId: pr.lastMergeTargetCommit, url: `${repo.url}/commits/${pr.lastMergeTargetCommit}` },
    ...(pr.lastMergeCommit ? { lastMergeCommit: { commitId: pr.lastMergeCommit, url: `${repo.url}/commits/${pr.lastMergeCommit}` } } : {}),
    reviewers: pr.reviewers.map((r) => ({ ...r, reviewerUrl: `${repo.url}/pullRequests/${pr.pullRequestId}/reviewers/${r.id}` })),
    url: `${repo.url}/pullRequests/${pr.pullRequestId}`,
    supportsIterations: true,
  };
}

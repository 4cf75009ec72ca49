// GitHub's JSON shapes (REST responses and webhook payloads), built from the stand-in's state.
// Field names and nesting follow GitHub's REST API and @octokit/webhooks-examples; URLs point at
// the stand-in.
import type { RawCommit, FileChange } from './git.ts';
import type { CheckRun, Comment, PullRequest, RepoMeta, Review, Store, User } from './store.ts';

export interface Urls { api: string; html: string }

const nodeId = (kind: string, id: number | string) => Buffer.from(`${kind}:${id}`).toString('base64');

export function userShape(u: User, urls: Urls) {
  return {
    login: u.login, id: u.id, node_id: nodeId('User', u.id), avatar_url: `${urls.html}/${u.login}.png`, gravatar_id: '',
    url: `${urls.api}/users/${u.login}`, html_url: `${urls.html}/${u.login}`, ...userUrls(urls, u.login), type: u.type, site_admin: u.siteAdmin,
  };
}

function userUrls(urls: Urls, login: string) {
  const api = `${urls.api}/users/${login}`;
  return {
    followers_url: `${api}/followers`, following_url: `${api}/following{/other_user}`, gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`, subscriptions_url: `${api}/subscriptions`, organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`, events_url: `${api}/events{/privacy}`, received_events_url: `${api}/received_events`,
  };
}

/** The URL templates every repository JSON carries. */
function repoUrls(api: string) {
  const plain = ['forks', 'teams', 'hooks', 'events', 'tags', 'languages', 'stargazers', 'contributors', 'subscribers', 'subscription', 'merges', 'downloads', 'deployments'];
  const templated: [string, string][] = [
    ['keys', '{/key_id}'], ['collaborators', '{/collaborator}'], ['issue_events', '{/number}'], ['assignees', '{/user}'],
    ['branches', '{/branch}'], ['blobs', '{/sha}'], ['git_tags', '{/sha}'], ['git_refs', '{/sha}'], ['trees', '{/sha}'],
    ['statuses', '{sha}'], ['comments', '{/number}'], ['contents', '{+path}'], ['issues', '{/number}'], ['milestones', '{/number}'],
    ['notifications', '{?since,all,participating}'], ['labels', '{/name}'], ['releases', '{/id}'],
  ];
  const out: Record<string, string> = {};
  for (const k of plain) out[`${k}_url`] = `${api}/${k}`;
  for (const [k, t] of templated) {
    const path = k === 'blobs' || k === 'git_tags' || k === 'git_refs' || k === 'trees' ? `git/${k.replace('git_', '')}` : k === 'issue_events' ? 'issues/events' : k;
    out[`${k}_url`] = `${api}/${path}${t.startsWith('{/') || t.startsWith('{?') ? t : `/${t}`}`;
  }
  return out;
}

/** The user a login names; an unknown login (a deleted user) still gets a shape. */
export function userOf(store: Store, login: string, urls: Urls) {
  return userShape(store.users.get(login) ?? { login, id: 0, name: login, email: '', type: 'User', siteAdmin: false }, urls);
}

export function repoShape(store: Store, r: RepoMeta, urls: Urls, forPush = false) {
  const full = `${r.owner}/${r.name}`;
  const api = `${urls.api}/repos/${full}`;
  const ownerUser = store.users.get(r.owner);
  const owner = ownerUser ? userShape(ownerUser, urls) : {
    login: r.owner, id: 0, node_id: nodeId('Organization', r.owner), avatar_url: '', gravatar_id: '',
    url: `${urls.api}/users/${r.owner}`, html_url: `${urls.html}/${r.owner}`, ...userUrls(urls, r.owner), type: 'Organization', site_admin: false,
  };
  const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const openIssues = store.pulls.filter((p) => p.repo === full && p.state === 'open').length;
  return {
    id: r.id, node_id: nodeId('Repository', r.id), name: r.name, full_name: full, private: true,
    // The push event names the owner with name and e-mail, and gives times as epoch seconds.
    owner: forPush ? { name: r.owner, email: ownerUser?.email ?? null, ...owner } : owner,
    html_url: `${urls.html}/${full}`, description: null, fork: false, url: forPush ? `${urls.html}/${full}` : api, ...repoUrls(api),
    commits_url: `${api}/commits{/sha}`, git_commits_url: `${api}/git/commits{/sha}`, compare_url: `${api}/compare/{base}...{head}`,
    pulls_url: `${api}/pulls{/number}`, issue_comment_url: `${api}/issues/comments{/number}`, archive_url: `${api}/{archive_format}{/ref}`,
    created_at: forPush ? epoch(r.createdAt) : r.createdAt, updated_at: r.pushedAt, pushed_at: forPush ? epoch(r.pushedAt) : r.pushedAt,
    git_url: `${urls.html.replace(/^https?/, 'git')}/${full}.git`, ssh_url: `git@standin:${full}.git`, clone_url: `${urls.html}/${full}.git`,
    svn_url: `${urls.html}/${full}`, homepage: null, mirror_url: null, language: null, license: null, topics: [], is_template: false,
    has_issues: true, has_projects: false, has_downloads: true, has_wiki: false, has_pages: false, has_discussions: false,
    forks_count: 0, forks: 0, stargazers_count: 0, watchers_count: 0, watchers: 0, ...(forPush ? { stargazers: 0 } : {}),
    web_commit_signoff_required: false, custom_properties: {}, allow_forking: false,
    default_branch: r.defaultBranch, master_branch: forPush ? r.defaultBranch : undefined, visibility: 'private',
    archived: false, disabled: false, size: 0, open_issues_count: openIssues, open_issues: openIssues,
    permissions: forPush ? undefined : { admin: true, maintain: true, push: true, triage: true, pull: true },
  };
}

export function verification(c: RawCommit) {
  return c.signature
    ? { verified: false, reason: 'unknown_key', signature: c.signature, payload: c.payload ?? null, verified_at: null }
    : { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null };
}

/** GET /repos/{o}/{r}/git/commits/{sha} */
export function gitCommitShape(full: string, c: RawCommit, urls: Urls) {
  const api = `${urls.api}/repos/${full}`;
  return {
    sha: c.sha, node_id: nodeId('Commit', c.sha), url: `${api}/git/commits/${c.sha}`, html_url: `${urls.html}/${full}/commit/${c.sha}`,
    author: { name: c.author.name, email: c.author.email, date: c.author.date },
    committer: { name: c.committer.name, email: c.committer.email, date: c.committer.date },
    tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    message: c.message.replace(/\n$/, ''),
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${urls.html}/${full}/commit/${p}` })),
    verification: verification(c),
  };
}

export function fileShape(full: string, sha: string, f: FileChange, urls: Urls) {
  return {
    filename: f.filename, status: f.status, additions: 0, deletions: 0, changes: 0,
    blob_url: `${urls.html}/${full}/blob/${sha}/${f.filename}`, raw_url: `${urls.html}/${full}/raw/${sha}/${f.filename}`,
    contents_url: `${urls.api}/repos/${full}/contents/${f.filename}?ref=${sha}`,
    ...(f.previous ? { previous_filename: f.previous } : {}),
  };
}

/** GET /repos/{o}/{r}/commits/{ref} (and each of compare's commits, which carry no files). */
export function commitShape(store: Store, full: string, c: RawCommit, urls: Urls, files?: FileChange[]) {
  const api = `${urls.api}/repos/${full}`;
  const account = (email: string) => {
    const u = store.userByEmail(email);
    return u ? userShape(u, urls) : null;
  };
  return {
    sha: c.sha, node_id: nodeId('Commit', c.sha), url: `${api}/commits/${c.sha}`, html_url: `${urls.html}/${full}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    commit: {
      url: `${api}/git/commits/${c.sha}`,
      author: { name: c.author.name, email: c.author.email, date: c.author.date },
      committer: { name: c.committer.name, email: c.committer.email, date: c.committer.date },
      message: c.message.replace(/\n$/, ''),
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      comment_count: 0,
      verification: verification(c),
    },
    author: account(c.author.email),
    committer: account(c.committer.email),
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${urls.html}/${full}/commit/${p}` })),
    ...(files ? { files: files.map((f) => fileShape(full, c.sha, f, urls)), stats: { total: 0, additions: 0, deletions: 0 } } : {}),
  };
}

/** One commit of a push payload. */
export function pushCommitShape(store: Store, full: string, c: RawCommit, files: FileChange[], urls: Urls, distinct = true) {
  const who = (p: { name: string; email: string }) => ({ name: p.name, email: p.email, username: store.userByEmail(p.email)?.login });
  return {
    id: c.sha, tree_id: c.tree, distinct, message: c.message.replace(/\n$/, ''),
    timestamp: c.committer.date, url: `${urls.html}/${full}/commit/${c.sha}`,
    author: who(c.author), committer: who(c.committer),
    added: files.filter((f) => f.status === 'added' || f.status === 'renamed').map((f) => f.filename),
    removed: [...files.filter((f) => f.status === 'removed').map((f) => f.filename), ...files.filter((f) => f.previous).map((f) => f.previous as string)],
    modified: files.filter((f) => f.status === 'modified').map((f) => f.filename),
  };
}

export function pullShape(store: Store, p: PullRequest, baseSha: string, urls: Urls, extra: { mergeable?: boolean | null; commits?: number; changedFiles?: number } = {}) {
  const repo = store.repos.get(p.repo) as RepoMeta;
  const api = `${urls.api}/repos/${p.repo}`;
  const html = `${urls.html}/${p.repo}/pull/${p.number}`;
  const repoJson = repoShape(store, repo, urls);
  const side = (ref: string, sha: string) => ({ label: `${repo.owner}:${ref}`, ref, sha, user: repoJson.owner, repo: repoJson });
  return {
    url: `${api}/pulls/${p.number}`, id: p.id, node_id: nodeId('PullRequest', p.id), html_url: html,
    diff_url: `${html}.diff`, patch_url: `${html}.patch`, issue_url: `${api}/issues/${p.number}`,
    comments_url: `${api}/issues/${p.number}/comments`, review_comments_url: `${api}/pulls/${p.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    statuses_url: `${api}/statuses/${p.headSha}`, commits_url: `${api}/pulls/${p.number}/commits`,
    number: p.number, state: p.state, locked: false, title: p.title, user: userOf(store, p.user, urls), body: p.body,
    labels: [], milestone: null, active_lock_reason: null,
    created_at: p.createdAt, updated_at: p.updatedAt, closed_at: p.closedAt ?? null, merged_at: p.mergedAt ?? null,
    merge_commit_sha: p.mergeCommitSha ?? null, assignee: null, assignees: [], requested_reviewers: [], requested_teams: [],
    head: side(p.head, p.headSha), base: side(p.base, baseSha),
    _links: { self: { href: `${api}/pulls/${p.number}` }, html: { href: html }, issue: { href: `${api}/issues/${p.number}` } },
    author_association: 'MEMBER', auto_merge: null, draft: p.draft,
    merged: p.merged, mergeable: extra.mergeable ?? null, rebaseable: null,
    mergeable_state: extra.mergeable === undefined || extra.mergeable === null ? 'unknown' : extra.mergeable ? 'clean' : 'dirty',
    merged_by: p.mergedBy ? userOf(store, p.mergedBy, urls) : null,
    comments: store.comments.filter((c) => c.repo === p.repo && c.number === p.number).length,
    review_comments: 0, maintainer_can_modify: false, commits: extra.commits ?? 0, additions: 0, deletions: 0, changed_files: extra.changedFiles ?? 0,
  };
}

export function reviewShape(store: Store, r: Review, urls: Urls, lowerState = false) {
  const html = `${urls.html}/${r.repo}/pull/${r.number}#pullrequestreview-${r.id}`;
  return {
    id: r.id, node_id: nodeId('PullRequestReview', r.id), user: userOf(store, r.user, urls), body: r.body,
    // REST says APPROVED; the pull_request_review webhook says approved.
    state: lowerState ? r.state.toLowerCase() : r.state,
    html_url: html, pull_request_url: `${urls.api}/repos/${r.repo}/pulls/${r.number}`, author_association: 'MEMBER',
    _links: { html: { href: html }, pull_request: { href: `${urls.api}/repos/${r.repo}/pulls/${r.number}` } },
    submitted_at: r.submittedAt, commit_id: r.commitId,
  };
}

export function commentShape(store: Store, c: Comment, urls: Urls) {
  return {
    id: c.id, node_id: nodeId('IssueComment', c.id), url: `${urls.api}/repos/${c.repo}/issues/comments/${c.id}`,
    html_url: `${urls.html}/${c.repo}/pull/${c.number}#issuecomment-${c.id}`, body: c.body, user: userOf(store, c.user, urls),
    created_at: c.createdAt, updated_at: c.updatedAt, issue_url: `${urls.api}/repos/${c.repo}/issues/${c.number}`,
    author_association: 'MEMBER', performed_via_github_app: null,
  };
}

export function checkRunShape(c: CheckRun, urls: Urls) {
  const api = `${urls.api}/repos/${c.repo}`;
  return {
    id: c.id, head_sha: c.headSha, node_id: nodeId('CheckRun', c.id), external_id: c.externalId, url: `${api}/check-runs/${c.id}`,
    html_url: `${urls.html}/${c.repo}/runs/${c.id}`, details_url: c.detailsUrl, status: c.status, conclusion: c.conclusion,
    started_at: c.startedAt, completed_at: c.completedAt, name: c.name,
    output: { ...c.output, annotations_count: 0, annotations_url: `${api}/check-runs/${c.id}/annotations` },
    check_suite: { id: c.id }, app: { id: 1, slug: c.app, name: c.app }, pull_requests: [],
  };
}

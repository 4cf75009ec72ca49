// The stand-in's state and the actions that send service hooks: pushes (after git receive-pack),
// pull request creation, source-branch updates, completion (a merge commit on the target) and abandon.
import { HookQueue, pullRequestNotification, pushNotification, type WebhookTarget } from './hooks.ts';
import { ZERO, git, mergeCommit, readCommit, refs, repoDir, resolve, revList, type RawCommit } from './git.ts';
import { STANDIN_USER, type Identity, type PullRequest, type RepoKey } from './model.ts';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly typeKey = 'InvalidArgumentValueException') {
    super(message);
  }
}

export class AdoState {
  readonly hooks: HookQueue;
  readonly prs = new Map<number, PullRequest>();
  private nextPr = 1;
  private nextPush = 1;
  private nextId = 1;
  /** Pushes to one repository are handled one at a time (the ref snapshot brackets the push). */
  private readonly locks = new Map<string, Promise<void>>();

  constructor(readonly root: string, readonly base: () => string, webhook: WebhookTarget | undefined) {
    this.hooks = new HookQueue(webhook);
  }

  dir(k: RepoKey): string {
    return repoDir(this.root, k.org, k.project, k.repo);
  }

  id(): number {
    return this.nextId++;
  }

  /** Runs `fn` with the repository's lock held. */
  async exclusive<T>(k: RepoKey, fn: () => Promise<T>): Promise<T> {
    const name = `${k.org}/${k.project}/${k.repo}`;
    const prev = this.locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.locks.set(name, prev.then(() => mine));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** After a push: one git.push for the ref updates, and PR updates for their source branches. */
  async pushed(k: RepoKey, before: Map<string, string>, pusher: Identity): Promise<void> {
    const dir = this.dir(k);
    const after = await refs(dir);
    const updates: { name: string; oldObjectId: string; newObjectId: string }[] = [];
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      // refs/pull/N/merge and other internal refs are not pushes.
      if (!name.startsWith('refs/heads/') && !name.startsWith('refs/tags/')) continue;
      const o = before.get(name) ?? ZERO;
      const n = after.get(name) ?? ZERO;
      if (o !== n) updates.push({ name, oldObjectId: o, newObjectId: n });
    }
    if (updates.length === 0) return;
    await this.announcePush(k, updates, pusher);
    for (const u of updates) {
      if (u.newObjectId === ZERO) continue;
      for (const pr of this.prs.values()) {
        if (pr.status !== 'active' || !sameRepo(pr.key, k)) continue;
        if (pr.sourceRefName === u.name) await this.sourceUpdated(pr, u.newObjectId, pusher);
        else if (pr.targetRefName === u.name) pr.lastMergeTargetCommit = u.newObjectId;
      }
    }
  }

  private async announcePush(k: RepoKey, updates: { name: string; oldObjectId: string; newObjectId: string }[], pusher: Identity) {
    const dir = this.dir(k);
    const commits: RawCommit[] = [];
    for (const u of updates) {
      if (u.newObjectId === ZERO) continue;
      const shas = await revList(dir, u.newObjectId, u.oldObjectId === ZERO ? undefined : u.oldObjectId, 100);
      for (const sha of shas) {
        const c = await readCommit(dir, sha);
        if (c) commits.push(c);
      }
    }
    this.hooks.send(pushNotification(this.base(), k, { pushId: this.nextPush++, pushedBy: pusher, commits, refUpdates: updates }));
  }

  private async sourceUpdated(pr: PullRequest, sha: string, who: Identity) {
    pr.lastMergeSourceCommit = sha;
    pr.iteration += 1;
    await this.tryMerge(pr);
    this.hooks.send(pullRequestNotification(this.base(), pr, 'git.pullrequest.updated',
      `${who.displayName} updated the source branch of pull request ${pr.pullRequestId} (${pr.title}): pushed new commits`));
    this.hooks.send(pullRequestNotification(this.base(), pr, 'git.pullrequest.merged',
      `${who.displayName} has created a pull request merge commit for pull request ${pr.pullRequestId}`));
  }

  /** The trial merge ADO keeps for every active pull request (refs/pull/N/merge). */
  private async tryMerge(pr: PullRequest): Promise<void> {
    const dir = this.dir(pr.key);
    const target = await resolve(dir, pr.targetRefName);
    if (target) pr.lastMergeTargetCommit = target;
    const merge = target ? await mergeCommit(dir, target, pr.lastMergeSourceCommit, `Merge pull request ${pr.pullRequestId}`, { name: STANDIN_USER.displayName, email: STANDIN_USER.uniqueName }) : undefined;
    pr.mergeStatus = merge ? 'succeeded' : 'conflicts';
    pr.lastMergeCommit = merge;
    if (merge) await git(dir, ['update-ref', `refs/pull/${pr.pullRequestId}/merge`, merge]);
  }

  async createPullRequest(k: RepoKey, body: { sourceRefName?: unknown; targetRefName?: unknown; title?: unknown; description?: unknown; isDraft?: unknown }, who: Identity): Promise<PullRequest> {
    const source = refName(body.sourceRefName, 'sourceRefName');
    const target = refName(body.targetRefName, 'targetRefName');
    if (typeof body.title !== 'string' || !body.title) throw new HttpError(400, 'title: a pull request needs a title');
    checkDescription(body.description);
    const dir = this.dir(k);
    const sourceSha = await resolve(dir, source);
    const targetSha = await resolve(dir, target);
    if (!sourceSha) throw new HttpError(404, `sourceRefName: ${source} does not exist`, 'GitRefNotFoundException');
    if (!targetSha) throw new HttpError(404, `targetRefName: ${target} does not exist`, 'GitRefNotFoundException');
    for (const pr of this.prs.values()) {
      if (pr.status === 'active' && sameRepo(pr.key, k) && pr.sourceRefName === source && pr.targetRefName === target) {
        throw new HttpError(409, `an active pull request for ${source} into ${target} already exists`, 'GitPullRequestExistsException');
      }
    }
    const pr: PullRequest = {
      key: k, pullRequestId: this.nextPr++, status: 'active', isDraft: body.isDraft === true,
      title: body.title, description: typeof body.description === 'string' ? body.description : '',
      sourceRefName: source, targetRefName: target, createdBy: who, creationDate: new Date().toISOString(),
      lastMergeSourceCommit: sourceSha, lastMergeTargetCommit: targetSha, mergeStatus: 'succeeded', iteration: 1,
      threads: [], statuses: [], reviewers: [],
    };
    await this.tryMerge(pr);
    this.prs.set(pr.pullRequestId, pr);
    this.hooks.send(pullRequestNotification(this.base(), pr, 'git.pullrequest.created', `${who.displayName} created a new pull request ${pr.pullRequestId} (${pr.title})`));
    return pr;
  }

  /** PATCH: title/description/isDraft, status completed (merges into the target) or abandoned. */
  async updatePullRequest(pr: PullRequest, body: Record<string, unknown>, who: Identity): Promise<void> {
    const status = statusName(body.status);
    checkDescription(body.description);
    if (typeof body.title === 'string' && body.title) pr.title = body.title;
    if (typeof body.description === 'string') pr.description = body.description;
    if (typeof body.isDraft === 'boolean') pr.isDraft = body.isDraft;
    if (status === undefined || status === pr.status) {
      this.hooks.send(pullRequestNotification(this.base(), pr, 'git.pullrequest.updated', `${who.displayName} updated pull request ${pr.pullRequestId} (${pr.title})`));
      return;
    }
    if (pr.status !== 'active') throw new HttpError(409, `pull request ${pr.pullRequestId} is ${pr.status}`, 'InvalidOperationException');
    if (status === 'abandoned') {
      pr.status = 'abandoned';
      pr.closedDate = new Date().toISOString();
      this.hooks.send(pullRequestNotification(this.base(), pr, 'git.pullrequest.updated', `${who.displayName} abandoned pull request ${pr.pullRequestId} (${pr.title})`));
      return;
    }
    if (status === 'completed') {
      await this.exclusive(pr.key, async () => {
        const dir = this.dir(pr.key);
        const before = await refs(dir);
        await this.tryMerge(pr);
        if (!pr.lastMergeCommit) throw new HttpError(409, `pull request ${pr.pullRequestId} has merge conflicts`, 'GitPullRequestMergeConflictException');
        await git(dir, ['update-ref', pr.targetRefName, pr.lastMergeCommit, pr.lastMergeTargetCommit]);
        pr.status = 'completed';
        pr.closedDate = new Date().toISOString();
        this.hooks.send(pullRequestNotification(this.base(), pr, 'git.pullrequest.updated', `${who.displayName} completed pull request ${pr.pullRequestId} (${pr.title})`));
        await this.pushed(pr.key, before, who);
      });
      return;
    }
    throw new HttpError(400, `status: '${String(body.status)}' cannot be set`);
  }

  /** A reviewer's vote (PUT .../reviewers/{id}): one git.pullrequest.updated. */
  vote(pr: PullRequest, reviewer: Identity, vote: number): void {
    const existing = pr.reviewers.find((r) => r.id === reviewer.id);
    if (existing) existing.vote = vote;
    else pr.reviewers.push({ ...reviewer, vote });
    const verb = vote === 10 ? 'approved' : vote === 5 ? 'approved with suggestions' : vote === -5 ? 'is waiting for the author of' : vote === -10 ? 'rejected' : 'reset the vote on';
    this.hooks.send(pullRequestNotification(this.base(), pr, 'git.pullrequest.updated', `${reviewer.displayName} ${verb} pull request ${pr.pullRequestId} (${pr.title})`));
  }
}

export function sameRepo(a: RepoKey, b: RepoKey): boolean {
  return a.org.toLowerCase() === b.org.toLowerCase() && a.project.toLowerCase() === b.project.toLowerCase() && a.repo.toLowerCase() === b.repo.toLowerCase();
}

/** ADO keeps at most 4,000 characters of a pull request's description. */
export const MAX_DESCRIPTION = 4000;

function checkDescription(v: unknown): void {
  if (typeof v === 'string' && v.length > MAX_DESCRIPTION) throw new HttpError(400, `description: at most ${MAX_DESCRIPTION} characters (got ${v.length})`);
}

function refName(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^refs\/heads\/[^\s~^:?*[\\]+$/.test(v) || v.includes('..')) {
    throw new HttpError(400, `${field}: expected refs/heads/<branch>`);
  }
  return v;
}

const STATUS_NUMBERS = new Map<number, PullRequest['status']>([[1, 'active'], [2, 'abandoned'], [3, 'completed']]);

function statusName(v: unknown): PullRequest['status'] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    const s = STATUS_NUMBERS.get(v);
    if (s) return s;
  }
  if (v === 'active' || v === 'abandoned' || v === 'completed') return v;
  throw new HttpError(400, `status: '${String(v)}' is not a pull request status`);
}

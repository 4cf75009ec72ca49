// Azure DevOps service hooks → GitOps events: `git.push` → PushEvent, `git.pullrequest.created`,
// `.updated` and `.merged` → PullRequestEvent, and a reviewer's vote (an `updated` whose message
// says so) → ReviewEvent. Other event types are not GitOps's: undefined. A field GitOps needs that
// is missing or malformed throws EventPayloadError naming it (the webhook answers 400).
import { z } from 'zod';
import type { GitOpsEvent, PullRequestAction, PullRequestEvent, PushEvent, ReviewEvent } from '../types.ts';
import { EventPayloadError } from './errors.ts';

const SHA = z.string().regex(/^[0-9a-fA-F]{40}$/, 'expected a 40-character commit id');
const NAME = z.string().min(1).max(256);
const ZERO = /^0{40}$/;

const Identity = z.object({ uniqueName: z.string().max(512).optional(), displayName: z.string().max(512).optional(), id: z.string().max(128).optional() });

const Repository = z.object({
  name: NAME,
  project: z.object({ name: NAME }),
  remoteUrl: z.string().max(2048).optional(),
  url: z.string().max(2048).optional(),
});

const Containers = z.object({
  account: z.object({ baseUrl: z.string().max(2048).optional() }).optional(),
  collection: z.object({ baseUrl: z.string().max(2048).optional() }).optional(),
}).optional();

const Push = z.object({
  resource: z.object({
    refUpdates: z.array(z.object({ name: z.string().min(1).max(1024), oldObjectId: SHA, newObjectId: SHA })).min(1).max(1000),
    repository: Repository,
    pushedBy: Identity,
    commits: z.array(z.object({ commitId: SHA, comment: z.string().max(100_000).optional() })).max(10_000).optional(),
  }),
  resourceContainers: Containers,
});

const PullRequest = z.object({
  message: z.object({ text: z.string().max(10_000).optional() }).optional(),
  resource: z.object({
    pullRequestId: z.number().int().positive(),
    status: z.enum(['active', 'completed', 'abandoned', 'notSet', 'all']),
    isDraft: z.boolean().optional(),
    sourceRefName: z.string().min(1).max(1024),
    targetRefName: z.string().min(1).max(1024),
    lastMergeSourceCommit: z.object({ commitId: SHA }),
    lastMergeCommit: z.object({ commitId: SHA }).optional(),
    repository: Repository,
    reviewers: z.array(Identity.extend({ vote: z.number().int(), isContainer: z.boolean().optional() })).max(1000).optional(),
  }),
  resourceContainers: Containers,
});

function parse<T extends z.ZodType>(schema: T, payload: unknown): z.infer<T> {
  const r = schema.safeParse(payload);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // Fields are named from the request body, as the webhook route names them (body.eventType).
  const field = ['body', ...issue.path.map(String)].join('.');
  throw new EventPayloadError(field, issue.message);
}

/** The organisation: from `https://dev.azure.com/{org}/...`, `https://{org}.visualstudio.com/...` or a stand-in `http://host:port/{org}/`. */
export function organisationOf(...urls: (string | undefined)[]): string | undefined {
  for (const raw of urls) {
    if (!raw) continue;
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      continue;
    }
    const legacy = /^([A-Za-z0-9][A-Za-z0-9-]*)\.visualstudio\.com$/i.exec(u.hostname);
    if (legacy) return legacy[1];
    const first = u.pathname.split('/').filter(Boolean)[0];
    if (first) return decodeURIComponent(first);
  }
  return undefined;
}

function repoId(p: { resource: { repository: z.infer<typeof Repository> }; resourceContainers?: z.infer<typeof Containers> }): string {
  const r = p.resource.repository;
  const org = organisationOf(p.resourceContainers?.account?.baseUrl, p.resourceContainers?.collection?.baseUrl, r.remoteUrl, r.url);
  if (!org) throw new EventPayloadError('body.resource.repository.remoteUrl', 'cannot tell the organisation (no body.resourceContainers.account.baseUrl or repository URL)');
  return `azure-devops:${org}/${r.project.name}/${r.name}`;
}

const branchOf = (ref: string) => (ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined);

/**
 * One PushEvent per ref update of a `git.push` (ADO pushes can move several refs at once). ADO
 * says nothing about force pushes: `forced` is false and the caller decides ancestry (compare).
 */
export function azureDevOpsPushEvents(payload: unknown, deliveryId: string): PushEvent[] {
  const p = parse(Push, payload);
  const repo = repoId(p);
  const pusher = p.resource.pushedBy.uniqueName || p.resource.pushedBy.displayName;
  if (!pusher) throw new EventPayloadError('body.resource.pushedBy.uniqueName', 'the pusher is missing');
  const commits = (p.resource.commits ?? []).map((c) => ({ sha: c.commitId, message: c.comment ?? '' }));
  const many = p.resource.refUpdates.length > 1;
  return p.resource.refUpdates.map((u) => ({
    kind: 'push',
    repo,
    branch: branchOf(u.name),
    before: u.oldObjectId,
    after: u.newObjectId,
    forced: false,
    deleted: ZERO.test(u.newObjectId),
    pusher,
    ...(pusher.includes('@') ? { pusherEmail: pusher } : {}),
    commits,
    // Each ref update is its own event; the delivery id stays unique (and stable on redelivery).
    deliveryId: many ? `${deliveryId}:${u.name}` : deliveryId,
  }));
}

const SYNC = /updated the source branch|pushed new commits|new commits/i;
const REOPEN = /reactivated/i;
const READY = /published|ready for review|marked .* as ready/i;
const VOTE = /\b(approved|rejected|voted|waiting for the author|reset the vote|reset their vote)\b/i;

function voteState(vote: number): ReviewEvent['state'] {
  if (vote === 10) return 'approved';
  if (vote <= -5) return 'changes_requested';
  if (vote === 0) return 'dismissed';
  return 'commented';
}

function pullRequestEvent(eventType: string, payload: unknown, deliveryId: string): PullRequestEvent | ReviewEvent {
  const p = parse(PullRequest, payload);
  const r = p.resource;
  const repo = repoId(p);
  // "<who> <did what> pull request N (<title>)": only the part before the number says what happened
  // (a title may well contain "approved" or "new commits").
  const text = (p.message?.text ?? '').replace(/\bpull request\s+\d+[\s\S]*$/i, '');
  const closed = r.status === 'completed' || r.status === 'abandoned';
  if (eventType === 'git.pullrequest.updated' && !closed && VOTE.test(text)) {
    // The notification names the voter only in its message ("<displayName> approved ..."): the whole
    // name then a space, the longest such name ("Al" must not take "Alice"'s vote). No name, no
    // review: a guessed voter could let a vote count for the wrong person.
    const voters = (r.reviewers ?? []).filter((v) => !v.isContainer);
    const named = voters.filter((v) => v.displayName && text.startsWith(`${v.displayName} `));
    const who = named.reduce<(typeof named)[number] | undefined>((best, v) => (!best || v.displayName!.length > best.displayName!.length ? v : best), undefined);
    const login = who?.uniqueName || who?.displayName;
    if (who && login) {
      return {
        kind: 'review', repo, number: r.pullRequestId, state: voteState(who.vote), login,
        ...(who.uniqueName?.includes('@') ? { email: who.uniqueName } : {}),
        commit: r.lastMergeSourceCommit.commitId, deliveryId,
      };
    }
  }
  let action: PullRequestAction;
  if (eventType === 'git.pullrequest.created') action = 'opened';
  else if (closed) action = 'closed';
  else if (eventType === 'git.pullrequest.merged') action = 'other'; // a trial merge, not a completion
  else if (SYNC.test(text)) action = 'synchronize';
  else if (REOPEN.test(text)) action = 'reopened';
  else if (READY.test(text)) action = 'ready_for_review';
  else if (/\b(updated|changed the title of|changed the description of)\s*$/i.test(text)) action = 'edited';
  else action = 'other';
  const merged = r.status === 'completed';
  const headRef = branchOf(r.sourceRefName);
  const baseRef = branchOf(r.targetRefName);
  if (headRef === undefined) throw new EventPayloadError('body.resource.sourceRefName', 'expected refs/heads/<branch>');
  if (baseRef === undefined) throw new EventPayloadError('body.resource.targetRefName', 'expected refs/heads/<branch>');
  return {
    kind: 'pull_request', repo, number: r.pullRequestId, action, merged, draft: r.isDraft === true,
    headSha: r.lastMergeSourceCommit.commitId, headRef, baseRef,
    ...(merged && r.lastMergeCommit ? { mergeCommitSha: r.lastMergeCommit.commitId } : {}),
    deliveryId,
  };
}

/**
 * The GitOps event of a service hook, or undefined for event types GitOps does not act on.
 * For a `git.push` that moves several refs: the update of `opts.branch` when given (the tracked
 * branch), else the first branch update (azureDevOpsPushEvents has them all).
 */
export function azureDevOpsEvent(eventType: string, payload: unknown, deliveryId: string, opts: { branch?: string } = {}): GitOpsEvent | undefined {
  switch (eventType) {
    case 'git.push': {
      const all = azureDevOpsPushEvents(payload, deliveryId);
      return all.find((e) => opts.branch !== undefined && e.branch === opts.branch) ?? all.find((e) => e.branch !== undefined) ?? all[0];
    }
    case 'git.pullrequest.created':
    case 'git.pullrequest.updated':
    case 'git.pullrequest.merged':
      return pullRequestEvent(eventType, payload, deliveryId);
    default:
      return undefined;
  }
}

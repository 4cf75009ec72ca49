// GitHub webhook payloads (push, pull_request, pull_request_review) → the normalised GitOps events.
// Only the fields Nexus acts on are read; zod strips the rest. A missing or mistyped field throws
// EventPayloadError naming it, so the webhook route answers 400 before anything is recorded.
import { z } from 'zod';
import type { GitOpsEvent, PullRequestAction, PullRequestEvent, PushEvent, ReviewEvent } from '../types.ts';
import { EventPayloadError, payloadError } from './errors.ts';

// SHA-1 object ids, or SHA-256 for repositories created with it.
const Sha = z.string().regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, 'must be a commit id (40 or 64 lowercase hex digits)');
const Name = z.string().min(1).max(1024);
const Repository = z.object({ full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/repo').max(256) });

const PushSchema = z.object({
  ref: Name,
  before: Sha,
  after: Sha,
  forced: z.boolean(),
  deleted: z.boolean(),
  pusher: z.object({ name: z.string().max(1024).nullish(), email: z.string().max(1024).nullish() }),
  sender: z.object({ login: Name }).nullish(),
  repository: Repository,
  // GitHub lists at most 20; the bound only keeps a forged payload small.
  commits: z.array(z.object({ id: Sha, message: z.string().max(1_000_000) })).max(2048),
});

const PullRequestSchema = z.object({
  action: Name,
  number: z.number().int().positive(),
  pull_request: z.object({
    merged: z.boolean().nullish(),
    draft: z.boolean().nullish(),
    merge_commit_sha: Sha.nullish(),
    head: z.object({ sha: Sha, ref: Name }),
    base: z.object({ ref: Name }),
  }),
  repository: Repository,
});

const ReviewSchema = z.object({
  action: Name,
  review: z.object({
    state: Name,
    // A deleted account's review has no user; it cannot count as anyone's approval.
    user: z.object({ login: Name }).nullable(),
    commit_id: Sha.nullish(),
    submitted_at: z.string().max(64).nullish(),
  }),
  pull_request: z.object({ number: z.number().int().positive() }),
  repository: Repository,
});

const PR_ACTIONS: ReadonlySet<string> = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review', 'closed', 'edited']);
const REVIEW_STATES: ReadonlySet<string> = new Set(['approved', 'changes_requested', 'commented', 'dismissed']);

function parse<T>(schema: z.ZodType<T>, payload: unknown): T {
  const r = schema.safeParse(payload);
  if (!r.success) throw payloadError(r.error);
  return r.data;
}

/** `github:<owner/repo>` of any delivery that names its repository; undefined otherwise. Never throws. */
export function githubRepoOf(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const repo = (payload as { repository?: unknown }).repository;
  if (typeof repo !== 'object' || repo === null) return undefined;
  const full = (repo as { full_name?: unknown }).full_name;
  return typeof full === 'string' && full.length > 0 && full.length <= 256 ? `github:${full}` : undefined;
}

/** The normalised event of a GitHub delivery; undefined for events (or review states) Nexus does not act on. */
export function githubEvent(event: string, payload: unknown, deliveryId: string): GitOpsEvent | undefined {
  switch (event) {
    case 'push': return pushEvent(parse(PushSchema, payload), deliveryId);
    case 'pull_request': return pullRequestEvent(parse(PullRequestSchema, payload), deliveryId);
    case 'pull_request_review': return reviewEvent(parse(ReviewSchema, payload), deliveryId);
    default: return undefined;
  }
}

function pushEvent(p: z.infer<typeof PushSchema>, deliveryId: string): PushEvent {
  // Tags and other refs carry no branch: the dispatcher ignores them for the tracked branch.
  // pusher.name is the pushing account's login on GitHub; sender is the same account (or the App).
  const pusher = p.pusher.name || p.sender?.login;
  if (!pusher) throw new EventPayloadError('body.pusher.name', 'is required (and there is no body.sender.login)');
  const branch = p.ref.startsWith('refs/heads/') ? p.ref.slice('refs/heads/'.length) : undefined;
  return {
    kind: 'push',
    repo: `github:${p.repository.full_name}`,
    branch: branch || undefined,
    before: p.before,
    after: p.after,
    forced: p.forced,
    deleted: p.deleted,
    pusher,
    ...(p.pusher.email ? { pusherEmail: p.pusher.email } : {}),
    commits: p.commits.map((c) => ({ sha: c.id, message: c.message })),
    deliveryId,
  };
}

function pullRequestEvent(p: z.infer<typeof PullRequestSchema>, deliveryId: string): PullRequestEvent {
  const pr = p.pull_request;
  const merged = pr.merged === true;
  return {
    kind: 'pull_request',
    repo: `github:${p.repository.full_name}`,
    number: p.number,
    action: (PR_ACTIONS.has(p.action) ? p.action : 'other') as PullRequestAction,
    merged,
    draft: pr.draft === true,
    headSha: pr.head.sha,
    headRef: pr.head.ref,
    baseRef: pr.base.ref,
    // On an open pull request merge_commit_sha is GitHub's trial merge, not a merge: only kept when merged.
    ...(merged && pr.merge_commit_sha ? { mergeCommitSha: pr.merge_commit_sha } : {}),
    deliveryId,
  };
}

function reviewEvent(p: z.infer<typeof ReviewSchema>, deliveryId: string): ReviewEvent | undefined {
  const state = p.review.state.toLowerCase();
  // `pending` (a draft review) and unknown states approve nothing; a review without a user neither.
  if (!REVIEW_STATES.has(state) || !p.review.user) return undefined;
  return {
    kind: 'review',
    repo: `github:${p.repository.full_name}`,
    number: p.pull_request.number,
    state: state as ReviewEvent['state'],
    login: p.review.user.login,
    ...(p.review.commit_id ? { commit: p.review.commit_id } : {}),
    deliveryId,
  };
}

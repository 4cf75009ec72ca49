// The webhook payloads the stand-in sends: `push` per updated ref after a receive-pack or a merge
// (with GitHub's created / deleted / forced and up to 2048 commits), `pull_request` (opened,
// synchronize, closed, reopened) and `pull_request_review` submitted.
import type { Ctx } from './context.ts';
import { ZERO_SHA, changedFiles, isAncestor, readCommit, resolveCommit, revList } from './git.ts';
import { pullShape, pushCommitShape, repoShape, reviewShape, userOf } from './shapes.ts';
import type { PullRequest, RepoMeta, Review } from './store.ts';

// GitHub's docs cap the push payload's commits at 20 for timeline events only; webhook deliveries
// carry up to 2048 (the newest ones).
const MAX_PUSH_COMMITS = 2048;

/** Delivers `push` for each ref that changed between `before` and `after`, then `synchronize` for open pull requests. */
export async function deliverPushes(ctx: Ctx, full: string, before: Map<string, string>, after: Map<string, string>, pusher: string): Promise<void> {
  const repo = ctx.store.repos.get(full);
  if (!repo) return;
  const names = new Set([...before.keys(), ...after.keys()]);
  const changed = [...names].filter((r) => before.get(r) !== after.get(r)).sort();
  if (changed.length === 0) return;
  repo.pushedAt = now();
  ctx.store.save();
  for (const ref of changed) {
    await deliverPush(ctx, repo, ref, before.get(ref) ?? ZERO_SHA, after.get(ref) ?? ZERO_SHA, before, pusher);
  }
  for (const ref of changed) {
    const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
    const sha = after.get(ref);
    if (!branch || !sha) continue;
    for (const p of ctx.store.pulls) {
      if (p.repo !== full || p.state !== 'open' || p.head !== branch || p.headSha === sha) continue;
      const old = p.headSha;
      p.headSha = sha;
      p.updatedAt = now();
      ctx.store.save();
      await deliverPull(ctx, p, 'synchronize', pusher, { before: old, after: sha });
    }
  }
}

async function deliverPush(ctx: Ctx, repo: RepoMeta, ref: string, beforeSha: string, afterSha: string, refsBefore: Map<string, string>, pusherLogin: string) {
  const full = `${repo.owner}/${repo.name}`;
  const dir = ctx.repoDir(full);
  const created = beforeSha === ZERO_SHA;
  const deleted = afterSha === ZERO_SHA;
  const forced = !created && !deleted && !(await isAncestor(dir, beforeSha, afterSha));
  let commits: ReturnType<typeof pushCommitShape>[] = [];
  let head: ReturnType<typeof pushCommitShape> | null = null;
  // An annotated tag's ref names the tag object; its commits are the tagged commit's.
  const tip = deleted ? undefined : ((await resolveCommit(dir, afterSha)) ?? afterSha);
  if (tip) {
    // New commits: reachable from the new tip and from no ref the repository had before the push.
    const exclude = created ? [...refsBefore.values()] : [beforeSha, ...[...refsBefore.entries()].filter(([r]) => r !== ref).map(([, s]) => s)];
    const ids = await revList(dir, tip, [...new Set(exclude)]);
    const shapes = async (sha: string, distinct: boolean) => {
      const c = await readCommit(dir, sha);
      return pushCommitShape(ctx.store, full, c, await changedFiles(dir, c.parents[0], sha), ctx.urls, distinct);
    };
    commits = await Promise.all(ids.slice(-MAX_PUSH_COMMITS).map((id) => shapes(id, true)));
    head = commits.find((c) => c.id === tip) ?? (await shapes(tip, false));
  }
  const user = ctx.store.users.get(pusherLogin);
  const branch = ref.replace(/^refs\/(heads|tags)\//, '');
  ctx.hooks.send('push', {
    ref, before: beforeSha, after: afterSha, created, deleted, forced, base_ref: null,
    compare: created || deleted ? `${ctx.urls.html}/${full}/compare/${branch}` : `${ctx.urls.html}/${full}/compare/${beforeSha.slice(0, 12)}...${afterSha.slice(0, 12)}`,
    commits, head_commit: head,
    repository: repoShape(ctx.store, repo, ctx.urls, true),
    pusher: { name: pusherLogin, email: user?.email ?? null },
    sender: userOf(ctx.store, pusherLogin, ctx.urls),
  });
}

export async function deliverPull(ctx: Ctx, p: PullRequest, action: string, sender: string, extra: Record<string, unknown> = {}): Promise<void> {
  const repo = ctx.store.repos.get(p.repo) as RepoMeta;
  ctx.hooks.send('pull_request', {
    action, number: p.number, ...extra,
    pull_request: pullShape(ctx.store, p, await baseSha(ctx, p), ctx.urls),
    repository: repoShape(ctx.store, repo, ctx.urls),
    sender: userOf(ctx.store, sender, ctx.urls),
  });
}

export async function deliverReview(ctx: Ctx, p: PullRequest, r: Review): Promise<void> {
  const repo = ctx.store.repos.get(p.repo) as RepoMeta;
  ctx.hooks.send('pull_request_review', {
    action: 'submitted',
    review: reviewShape(ctx.store, r, ctx.urls, true),
    pull_request: pullShape(ctx.store, p, await baseSha(ctx, p), ctx.urls),
    repository: repoShape(ctx.store, repo, ctx.urls),
    sender: userOf(ctx.store, r.user, ctx.urls),
  });
}

/** The base branch's tip now (what GitHub reports as base.sha), or the head's when the base is gone. */
export async function baseSha(ctx: Ctx, p: PullRequest): Promise<string> {
  return (await resolveCommit(ctx.repoDir(p.repo), `refs/heads/${p.base}`)) ?? p.headSha;
}

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

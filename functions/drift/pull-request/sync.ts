// One drift pull request per stack, kept in step with the drift: opened when the drift appears,
// updated (branch force-moved, title and body edited) when the plan changes, left alone when the
// plan is the same (its hash rides in the body as a hidden marker), closed when the drift is gone
// (the branch is left for the record). Found by its branch, so it is never duplicated. Host
// errors (GitHostUnavailableError included) propagate: the caller retries on its next run.
import type { GitHost, PullRequestInfo } from '../../platform/git-host/types.ts';
import { PLAN_MARKER_PREFIX, driftBranch, type DriftPullRequestPlan } from './plan.ts';

export interface SyncOptions {
  stack: string;
  /** The branch the pull request targets (the landing-zone repository's tracked branch). */
  baseBranch: string;
  /** The applied commit the plan was made from: the drift branch's commit sits on it. */
  baseCommit: string;
  plan: SyncPlan | undefined;
  /** The branch when there is no plan (default the drift branch of the stack). */
  branch?: string;
}

/** What sync needs of a plan (the drift plan, or the expired-exemptions one). */
export type SyncPlan = Pick<DriftPullRequestPlan, 'stack' | 'branch' | 'title' | 'body' | 'files' | 'hash'>;

export interface SyncResult {
  number: number;
  url: string;
  state: 'opened' | 'updated' | 'closed' | 'unchanged';
}

/** Azure DevOps refuses descriptions over 4,000 characters; GitHub bodies over 65,536. */
const BODY_MAX = { github: 65_536, 'azure-devops': 4_000 } as const;

/** The plan hash a body carries (the last marker: a value quoted above it cannot stand in for it). */
export function planHashOf(body: string | undefined): string | undefined {
  if (!body) return undefined;
  const all = [...body.matchAll(/<!-- nexus:drift-plan sha256=([0-9a-f]{64}) -->/g)];
  return all.length ? all[all.length - 1]![1] : undefined;
}

/** The body within the host's limit, the marker kept at its end. */
export function fitBody(plan: SyncPlan, max: number): string {
  if (plan.body.length <= max) return plan.body;
  const marker = `${PLAN_MARKER_PREFIX}${plan.hash} -->`;
  const note = `\n\n… (cut to fit the host's limit; \`nexus drift ${plan.stack}\` shows the whole report)\n\n`;
  return `${plan.body.slice(0, Math.max(0, max - marker.length - note.length))}${note}${marker}`;
}

/** Ends the body of a pull request Nexus closed itself because the drift went away. */
export const NEXUS_CLOSED = '<!-- nexus:closed drift-gone -->';

function result(pr: PullRequestInfo, state: SyncResult['state']): SyncResult {
  return { number: pr.number, url: pr.url, state };
}

export async function syncDriftPullRequest(host: GitHost, opts: SyncOptions): Promise<SyncResult | undefined> {
  const branch = opts.plan?.branch ?? opts.branch ?? driftBranch(opts.stack);
  const open = await host.findPullRequest({ head: branch, state: 'open' });
  const plan = opts.plan;
  if (!plan) {
    if (!open) return undefined;
    // Marked as closed by Nexus (the drift went away), so the same drift coming back is proposed again.
    const body = `${(open.body ?? '').slice(0, BODY_MAX[host.repo.provider] - NEXUS_CLOSED.length - 2)}\n\n${NEXUS_CLOSED}`;
    return result(await host.updatePullRequest(open.number, { body, state: 'closed' }), 'closed');
  }
  if (open && planHashOf(open.body) === plan.hash) return result(open, 'unchanged');
  if (!open) {
    // Someone closed this very proposal (not merged): it is not proposed again until the drift changes.
    const last = await host.findPullRequest({ head: branch, state: 'all' });
    if (last && last.state === 'closed' && planHashOf(last.body) === plan.hash && !(last.body ?? '').includes(NEXUS_CLOSED)) return result(last, 'unchanged');
  }
  const body = fitBody(plan, BODY_MAX[host.repo.provider]);
  await host.commitFiles({ branch, base: opts.baseCommit, message: plan.title, files: plan.files, force: true });
  if (open) return result(await host.updatePullRequest(open.number, { title: plan.title, body }), 'updated');
  return result(await host.openPullRequest({ head: branch, base: opts.baseBranch, title: plan.title, body }), 'opened');
}

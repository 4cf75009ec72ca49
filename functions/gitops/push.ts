// A push to the landing-zone repository: compile the new commit, compare each stack's
// desired-state hash with the one its last applied run recorded (not with the push's `before`,
// which may never have been applied), and queue a reconcile of exactly the stacks that differ.
// A stack with no recorded hash is queued: a missed stack is worse than a no-change run. Force
// pushes and branch deletions are recorded and reported, never applied.
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { Logger } from '../platform/logger.ts';
import { GitHostUnavailableError } from '../platform/git-host/types.ts';
import { compileErrors } from '../reconcile/compile-step.ts';
import type { DesiredSource } from '../reconcile/desired-source.ts';
import { desiredStateHash } from '../reconcile/hash.ts';
import type { AuditLog } from '../reconcile/store/audit.ts';
import type { RunStore } from '../reconcile/store/runs.ts';
import type { GitOpsEventRecord, GitOpsStore } from './store.ts';
import type { PushEvent } from './types.ts';

export interface PushPorts {
  repoId: string;
  branch: string;
  source: Pick<DesiredSource, 'compile' | 'history'>;
  runs: Pick<RunStore, 'stack' | 'stacks'>;
  store: GitOpsStore;
  audit: Pick<AuditLog, 'record'>;
  now(): Date;
  logger: Logger;
}

const ZERO = /^0+$/;

/** What the push did; recorded in the `gitops` table either way. Host outages are thrown (retried). */
export async function handlePush(p: PushPorts, ev: PushEvent): Promise<GitOpsEventRecord> {
  const base = { deliveryId: ev.deliveryId, kind: 'push', repo: ev.repo, ref: ev.branch, commit: ev.after };
  const record = (r: Pick<GitOpsEventRecord, 'outcome' | 'message'> & Partial<GitOpsEventRecord>) => p.store.record({ ...base, ...r }, p.now());
  if (ev.repo.toLowerCase() !== p.repoId.toLowerCase()) {
    return record({ outcome: 'ignored', reason: 'UNKNOWN_REPOSITORY', message: `${ev.repo} is not the landing-zone repository (${p.repoId})` });
  }
  if (ev.branch !== p.branch) {
    return record({ outcome: 'ignored', reason: 'UNTRACKED_BRANCH', message: `${ev.branch ? `branch ${ev.branch}` : 'a tag'} is not the tracked branch ${p.branch}` });
  }
  if (ev.deleted || ZERO.test(ev.after)) return refuse(p, ev, 'BRANCH_DELETED', `the tracked branch ${p.branch} was deleted by ${ev.pusher}; nothing is applied until it is pushed again`);
  if (ev.forced || (!ZERO.test(ev.before) && !(await descends(p, ev.before, ev.after)))) {
    return refuse(p, ev, 'FORCE_PUSH', `${ev.pusher} force-pushed ${ev.after.slice(0, 12)} over ${ev.before.slice(0, 12)} on ${p.branch}: history was rewritten, so nothing is applied from it (every run checks that the applied commit is an ancestor)`);
  }

  let state: DesiredState | undefined;
  let why: string | undefined;
  try {
    state = (await p.source.compile(ev.after)).state;
    why = compileErrors(state);
  } catch (err) {
    if (err instanceof GitHostUnavailableError) throw err;
    why = (err as Error).message;
  }
  const known = (await p.runs.stacks()).map((s) => s.stack);
  if (!state || why) {
    // Each stack records its own COMPILE_FAILED run with the findings; nothing is applied.
    const stacks = [...new Set([...known, ...(state?.stacks.map((s) => s.name) ?? [])])];
    await queue(p, ev, stacks);
    return record({ outcome: 'queued', reason: 'COMPILE_FAILED', message: `commit ${ev.after.slice(0, 12)} does not compile: ${why}`, stacks });
  }

  const affected: string[] = [];
  for (const s of state.stacks) {
    const summary = await p.runs.stack(s.name);
    const same = summary?.lastAppliedSource?.toLowerCase() === p.repoId.toLowerCase() && summary.lastAppliedHash === desiredStateHash(state, s.name);
    if (!same) affected.push(s.name);
  }
  const gone = known.filter((k) => !state!.stacks.some((s) => s.name === k));
  const leftAlone = gone.length ? `; no longer in the desired state (left alone): ${gone.join(', ')}` : '';
  if (affected.length === 0) {
    return record({ outcome: 'no-change', message: `commit ${ev.after.slice(0, 12)} changes no stack's desired state${leftAlone}`, stacks: [] });
  }
  await queue(p, ev, affected);
  p.logger.info({ commit: ev.after, stacks: affected, pusher: ev.pusher }, 'push: stacks queued');
  return record({ outcome: 'queued', message: `commit ${ev.after.slice(0, 12)} changes ${affected.length} stack(s): ${affected.join(', ')}${leftAlone}`, stacks: affected });
}

/** Whether `head` descends from `base` (or is it); a commit the host no longer has descends from nothing. */
async function descends(p: PushPorts, base: string, head: string): Promise<boolean> {
  if (base === head) return true;
  try {
    const cmp = await p.source.history(base, head);
    return cmp.status === 'ahead' || cmp.status === 'identical';
  } catch (err) {
    if ((err as Error).name === 'GitRefNotFoundError') return false;
    throw err;
  }
}

/**
 * A later push supersedes a queued earlier one. Only a want that is itself later (it descends
 * from this commit: an older delivery arriving late) stands; a want left by rewritten history
 * is replaced (the gates judge the new commit).
 */
async function queue(p: PushPorts, ev: PushEvent, stacks: string[]): Promise<void> {
  for (const stack of stacks) {
    await p.store.putWant(
      { stack, commit: ev.after, pusher: ev.pusher, deliveryId: ev.deliveryId, at: p.now().toISOString() },
      (cur) => descends(p, ev.after, cur.commit),
    );
  }
}

async function refuse(p: PushPorts, ev: PushEvent, reason: 'FORCE_PUSH' | 'BRANCH_DELETED', message: string): Promise<GitOpsEventRecord> {
  p.logger.warn({ reason, before: ev.before, after: ev.after, pusher: ev.pusher }, 'push refused');
  await p.audit.record({ actor: ev.pusher, action: 'push-refused', target: p.repoId, why: message, details: { reason, branch: ev.branch, before: ev.before, after: ev.after, deliveryId: ev.deliveryId } });
  return p.store.record({ deliveryId: ev.deliveryId, kind: 'push', repo: ev.repo, ref: ev.branch, commit: ev.after, outcome: 'refused', reason, message }, p.now());
}

// Gate: a run never applies a commit older than, or beside, the one already applied to the stack.
// The applied commit must be an ancestor of the new one (a force push or a stale queued run is
// refused here, whatever path it came by), and it must be on the tracked branch.
import type { Gate } from './types.ts';

const short = (s: string | undefined) => s?.slice(0, 12) ?? '(none)';

export const commitOrderGate: Gate = (ctx) => {
  const f = ctx.commits;
  if (!f) return { gate: 'commit-order', pass: true, reason: 'OK', details: { message: 'not from the landing-zone repository' } };
  if (!f.onBranch) {
    return {
      gate: 'commit-order', pass: false, reason: 'COMMIT_NOT_ON_BRANCH',
      details: { message: `commit ${short(f.commit)} is not on the tracked branch (a pull request's head, or dropped by a force push): only the branch's history is applied`, commit: f.commit },
    };
  }
  if (f.ancestry === 'behind' || f.ancestry === 'diverged') {
    return {
      gate: 'commit-order', pass: false, reason: 'COMMIT_NOT_DESCENDANT',
      details: {
        message: `commit ${short(f.commit)} does not descend from ${short(f.applied)}, the commit last applied to ${ctx.stack} (${f.ancestry}): a force push or an older commit is never applied. To go on, push a commit that has ${short(f.applied)} in its history (restore the branch, or \`git merge -s ours ${short(f.applied)}\` after reviewing what the rewrite changed)`,
        applied: f.applied, commit: f.commit, ancestry: f.ancestry,
      },
    };
  }
  return { gate: 'commit-order', pass: true, reason: 'OK', details: { message: f.applied ? `${short(f.commit)} descends from ${short(f.applied)}` : 'nothing applied from the repository yet', applied: f.applied } };
};

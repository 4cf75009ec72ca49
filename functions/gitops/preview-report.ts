// The pure parts of a pull request preview: which stacks the pull request touches (by desired
// state, not by path: an archetype three groups inherit touches three stacks), what one stack's
// dry run says, and the check's conclusion.
import type { DesiredState, Finding } from '../../stacks/compile/model.ts';
import type { CheckConclusion } from '../platform/git-host/types.ts';
import { desiredStateHash } from '../reconcile/hash.ts';
import type { PreviewOnlyResult } from '../reconcile/preview-only.ts';
import type { StackPreview } from './types.ts';

export interface Affected {
  /** In the head's order (parents first): changed or new stacks. */
  changed: string[];
  /** Stacks the base has and the head no longer does. */
  removed: string[];
  unchanged: string[];
}

/**
 * Stacks whose desired state differs between base and head, plus new and removed ones. Without
 * a base (it did not compile) every stack of the head counts: a missed stack is worse than a
 * preview with nothing to do.
 */
export function affectedStacks(base: DesiredState | undefined, head: DesiredState): Affected {
  const baseNames = new Set(base?.stacks.map((s) => s.name) ?? []);
  const headNames = new Set(head.stacks.map((s) => s.name));
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const { name } of head.stacks) {
    const same = base && baseNames.has(name) && desiredStateHash(base, name) === desiredStateHash(head, name);
    (same ? unchanged : changed).push(name);
  }
  const removed = [...baseNames].filter((n) => !headNames.has(n));
  return { changed, removed, unchanged };
}

/** What a removed stack gets: Nexus never deletes a stack's resources because its group left the architecture. */
export function removedStack(stack: string): StackPreview {
  return {
    stack, gates: [], verdict: 'blocked', reasons: ['STACK_REMOVED'],
    error: `the pull request removes stack '${stack}' from the desired state; Nexus does not delete a removed stack's resources (they stay until removed on purpose)`,
  };
}

/** One stack's dry run as the comment shows it. */
export function stackPreviewOf(r: PreviewOnlyResult, runUrl?: string): StackPreview {
  const { run } = r;
  const base = { stack: run.stack, changeSet: r.preview, drift: r.drift, gates: run.gates, runId: run.id, ...(runUrl ? { runUrl } : {}) };
  if (run.decision === 'failed' || run.decision === 'interrupted' || !r.preview) {
    return { ...base, verdict: 'error', reasons: run.reasons, error: run.error ?? 'the preview did not finish' };
  }
  if (run.decision === 'no-change') return { ...base, verdict: 'no-change', reasons: [] };
  const failed = run.gates.filter((g) => !g.pass);
  // Report-only (an untrusted preview) is not applied either: shown as blocked with its reason.
  const blocking = failed.filter((g) => !g.hold);
  if (blocking.length > 0) return { ...base, verdict: 'blocked', reasons: blocking.map((g) => g.reason), error: blocking.map((g) => g.details.message).join('; ') };
  if (failed.length > 0) {
    const approvals = failed.flatMap((g) => (g.details.requirements as { rule: string; group: string; approvers: number }[] | undefined) ?? [])
      .map(({ rule, group, approvers }) => ({ rule, group, approvers }));
    return { ...base, verdict: 'needs-approval', reasons: run.reasons, approvals };
  }
  return { ...base, verdict: 'apply', reasons: [] };
}

/** failure: the head does not compile, or a stack is blocked or failed; neutral: approvals needed. */
export function conclusionOf(stacks: StackPreview[], compileFailed: boolean): CheckConclusion {
  if (compileFailed || stacks.some((s) => s.verdict === 'blocked' || s.verdict === 'error')) return 'failure';
  if (stacks.some((s) => s.verdict === 'needs-approval')) return 'neutral';
  return 'success';
}

/** A compile that threw (unreadable YAML, unknown architecture) as one finding. */
export function thrownFinding(err: unknown): Finding {
  const e = err as { file?: unknown; path?: unknown; message?: unknown };
  return {
    severity: 'error', file: typeof e?.file === 'string' ? e.file : '', path: typeof e?.path === 'string' ? e.path : '',
    message: typeof e?.message === 'string' ? e.message : String(err), code: 'compile-failed',
  };
}

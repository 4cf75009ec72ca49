// Where a run's desired state comes from: the archetypes folder of this package (the checkout's
// HEAD, as before GitOps), or the landing-zone repository at a commit (functions/gitops/repo-source.ts).
// The loop asks this port for the state at a commit and for the commits since the stack's last
// applied one (their authors are kept from approving; their signatures and order are gates).
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { Comparison } from '../platform/git-host/types.ts';

export interface CompiledAt {
  state: DesiredState;
  /** The commit it was compiled from (`<sha>+dirty` for a folder with uncommitted changes). */
  commit?: string;
}

export interface DesiredSource {
  readonly kind: 'folder' | 'repository';
  /** The commit `compile()` reads when none is named: the tracked branch's head, or the checkout's HEAD. */
  head(): Promise<string | undefined>;
  /** The desired state at `commit` (default: `head()`). Throws GitRefNotFoundError for an unknown commit. */
  compile(commit?: string): Promise<CompiledAt>;
  /**
   * The commits after `base` up to `head`, oldest first, with where head stands relative to base.
   * `base` undefined (nothing applied yet): only `head` itself, status `ahead`.
   */
  history(base: string | undefined, head: string): Promise<Comparison>;
}

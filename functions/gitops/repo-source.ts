// The desired state compiled from the landing-zone repository at a commit: the commit's files
// (the configured sub-folder) from the snapshot cache, compiled with the same options as the
// package's own archetypes/. Compiling takes a second or two, so the last few results are kept
// per commit (a commit's content never changes); each caller gets its own copy.
import { relative, sep } from 'node:path';
import { InputError } from '../../stacks/compile/errors.ts';
import type { DesiredState } from '../../stacks/compile/model.ts';
import { GitRefNotFoundError, type Comparison, type GitHost } from '../platform/git-host/types.ts';
import type { CompileArchetypes } from '../reconcile/compile-archetypes.ts';
import type { CompiledAt, DesiredSource } from '../reconcile/desired-source.ts';
import type { GitOpsSettings } from '../runtime/config.ts';
import { commitId, SnapshotCache } from './snapshots.ts';

export const DEFAULT_COMPILED_KEPT = 4;

export interface RepoSourceOptions {
  host: Pick<GitHost, 'branchHead' | 'commit' | 'compare'>;
  snapshots: SnapshotCache;
  /** The tracked branch (config.gitops.branch). */
  branch: string;
  /** The sub-folder the snapshots hold (config.gitops.path), to name files in findings. */
  path: string;
  compile: CompileArchetypes;
  /** Compiled states kept (default 4). */
  keep?: number;
}

export class RepoDesiredSource implements DesiredSource {
  readonly kind = 'repository' as const;
  private readonly opts: RepoSourceOptions;
  /** Insertion order is recency; a pending compile is shared by concurrent callers. */
  private readonly compiled = new Map<string, Promise<DesiredState>>();

  constructor(opts: RepoSourceOptions) {
    this.opts = opts;
  }

  /** The tracked branch's head; GitRefNotFoundError when the branch is gone. */
  async head(): Promise<string> {
    const sha = await this.opts.host.branchHead(this.opts.branch);
    if (!sha) throw new GitRefNotFoundError(this.opts.branch, `the tracked branch '${this.opts.branch}' does not exist in the landing-zone repository`);
    return sha;
  }

  /** The repository's files (the configured sub-folder) at a commit, for as long as `fn` runs. */
  withFiles<T>(commit: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
    return this.opts.snapshots.use(commitId(commit), fn);
  }

  async compile(commit?: string): Promise<CompiledAt> {
    const id = commitId(commit ?? (await this.head()));
    let pending = this.compiled.get(id);
    if (pending) this.compiled.delete(id);
    else pending = this.compileAt(id);
    this.compiled.set(id, pending);
    this.trim();
    try {
      return { state: structuredClone(await pending), commit: id };
    } catch (e) {
      // A failure is not kept: the host may answer next time.
      if (this.compiled.get(id) === pending) this.compiled.delete(id);
      throw e;
    }
  }

  /** Commits after `base` up to `head`, oldest first; nothing applied yet: `head` alone. */
  async history(base: string | undefined, head: string): Promise<Comparison> {
    if (base === undefined) return { status: 'ahead', commits: [await this.opts.host.commit(head)], truncated: false };
    return this.opts.host.compare(base, head);
  }

  private compileAt(commit: string): Promise<DesiredState> {
    return this.opts.snapshots.use(commit, async (dir) => {
      const names = repoNames(dir, this.opts.path);
      let state: DesiredState;
      try {
        state = await this.opts.compile(dir);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(names.file(e.file), e.field, names.text(e.detail));
        throw e;
      }
      for (const f of state.findings) {
        f.file = names.file(f.file);
        f.message = names.text(f.message);
      }
      return state;
    });
  }

  private trim(): void {
    const keep = Math.max(1, this.opts.keep ?? DEFAULT_COMPILED_KEPT);
    for (const key of this.compiled.keys()) {
      if (this.compiled.size <= keep) break;
      this.compiled.delete(key);
    }
  }
}

/** The configured repository's source: its snapshot cache from `config.gitops.cache`. */
export function repoSourceFromSettings(settings: GitOpsSettings, host: GitHost, compile: CompileArchetypes): RepoDesiredSource {
  const snapshots = new SnapshotCache({ host, path: settings.path, dir: settings.cache.dir, maxBytes: settings.cache.maxBytes, maxSnapshotBytes: settings.cache.maxSnapshotBytes });
  return new RepoDesiredSource({ host, snapshots, branch: settings.branch, path: settings.path, compile });
}

/** Files named as the repository does (`lz/corp.yaml`), not by the cache folder they were read from. */
function repoNames(dir: string, path: string): { file(f: string): string; text(t: string): string } {
  const prefix = dir + sep;
  const base = path.replace(/^\/+|\/+$/g, '');
  const inRepo = (rel: string) => (base ? `${base}/${rel}` : rel);
  return {
    file: (f) => (f.startsWith(prefix) ? inRepo(relative(dir, f).split(sep).join('/')) : f),
    text: (t) => (t.includes(prefix) ? t.split(prefix).join(inRepo('')) : t),
  };
}

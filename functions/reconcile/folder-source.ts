// The desired state as before GitOps: this package's archetypes/ folder at the checkout's HEAD
// (`<sha>+dirty` with uncommitted changes). Only what is on disk can be compiled, so a named
// commit is not looked up: the result says which commit it is (the caller compares).
import { archetypesDir } from '../../stacks/compile/index.ts';
import type { Comparison } from '../platform/git-host/types.ts';
import type { CompileArchetypes } from './compile-archetypes.ts';
import type { CompiledAt, DesiredSource } from './desired-source.ts';
import { commitAuthor, trackedCommit } from './tracked-commit.ts';

export interface FolderSourceOptions {
  compile: CompileArchetypes;
  /** Default: this package's archetypes/. */
  dir?: string;
}

export class FolderDesiredSource implements DesiredSource {
  readonly kind = 'folder' as const;
  readonly dir: string;
  private readonly compileDir: CompileArchetypes;

  constructor(opts: FolderSourceOptions) {
    this.dir = opts.dir ?? archetypesDir();
    this.compileDir = opts.compile;
  }

  head(): Promise<string | undefined> {
    return trackedCommit(this.dir);
  }

  async compile(): Promise<CompiledAt> {
    const commit = await this.head();
    return { state: await this.compileDir(this.dir), commit };
  }

  /** The head commit with its author as Git records it (the two-person rule's exclusion). */
  async history(_base: string | undefined, head: string): Promise<Comparison> {
    const author = await commitAuthor(this.dir, head);
    if (!author) return { status: 'ahead', commits: [], truncated: false };
    const person = { name: author.name, email: author.email };
    return { status: 'ahead', commits: [{ sha: head, parents: [], author: person, committer: person, message: '' }], truncated: false };
  }
}

// A DesiredSource whose "commits" are folders of archetypes, compiled by the real compiler on top
// of the ALZ library: the test writes what each commit holds, as a pushed branch would.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alzLibraryDir, archetypesDir, compile, DEFAULT_ARCHITECTURE } from '../../../../stacks/compile/index.ts';
import type { DesiredSource, CompiledAt } from '../../../../functions/reconcile/desired-source.ts';
import { GitRefNotFoundError } from '../../../../functions/platform/git-host/types.ts';

export class FolderCommits implements DesiredSource {
  readonly kind = 'repository' as const;
  private readonly dirs = new Map<string, string>();
  readonly compiled: string[] = [];

  constructor(private readonly rootMg: string) {}

  /** A commit holding the shipped archetypes, with `edit` applied to its files. */
  add(sha: string, edit: (dir: string) => void = () => {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-pr-commit-'));
    cpSync(archetypesDir(), dir, { recursive: true });
    edit(dir);
    this.dirs.set(sha, dir);
    return sha;
  }

  async head(): Promise<string | undefined> { return undefined; }

  async compile(commit?: string): Promise<CompiledAt> {
    const dir = commit ? this.dirs.get(commit) : undefined;
    if (!commit || !dir) throw new GitRefNotFoundError(commit ?? '(none)');
    this.compiled.push(commit);
    const state = compile({ libraries: [alzLibraryDir(process.env), dir], architecture: DEFAULT_ARCHITECTURE, rootMg: this.rootMg, location: 'westeurope' }).state;
    return { state, commit };
  }

  async history(): Promise<never> { throw new Error('not used'); }
}

/** Adds a resource type to the sandbox archetype's deny list: changes the `sandbox` stack only. */
export function denyMoreInSandboxes(dir: string): void {
  const file = join(dir, 'nexus-sandbox.yaml');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace('- microsoft.network/natgateways', '- microsoft.network/natgateways\n                - microsoft.network/bastionhosts'));
}

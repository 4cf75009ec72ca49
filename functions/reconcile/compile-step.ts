// The desired state a run works from, compiled at its commit. Bad input in the commit (a file
// that does not parse, an archetype that does not resolve, error findings) is a recorded run
// `COMPILE_FAILED` with the findings, never an exception lost in a queue; an unknown commit is
// `COMMIT_NOT_FOUND`. A host that cannot be reached is thrown: the caller retries later.
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ReconcileDeps } from './deps.ts';
import type { Trigger } from './model.ts';
import { RunFailure } from './run-record.ts';

const MAX_LISTED = 20;

/** The findings of severity error, as one message that names each file and path. */
export function compileErrors(state: DesiredState): string | undefined {
  const errors = state.findings.filter((f) => f.severity === 'error');
  if (errors.length === 0) return undefined;
  const listed = errors.slice(0, MAX_LISTED).map((f) => `${f.file}: ${f.path}: ${f.message}`);
  return `the desired state has ${errors.length} error finding(s): ${listed.join('; ')}${errors.length > MAX_LISTED ? `; and ${errors.length - MAX_LISTED} more` : ''}`;
}

/**
 * Compiles at `commit`. A person's manual run gets the error itself (the API answers it); any
 * other trigger records the failure as the run's outcome.
 */
export async function compileAt(d: Pick<ReconcileDeps, 'compile'>, commit: string | undefined, trigger: Trigger): Promise<{ state: DesiredState } | { failure: RunFailure }> {
  try {
    return { state: await d.compile(commit) };
  } catch (err) {
    const name = (err as Error).name;
    if (trigger === 'manual' || name === 'GitHostUnavailableError') throw err;
    const code = name === 'GitRefNotFoundError' ? 'COMMIT_NOT_FOUND' : 'COMPILE_FAILED';
    return { failure: new RunFailure(code, `${commit ? `commit ${commit.slice(0, 12)}: ` : ''}${(err as Error).message}`, err) };
  }
}

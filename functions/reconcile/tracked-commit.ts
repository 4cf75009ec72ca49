// The commit a run's desired state comes from when the trigger did not name one: the Git HEAD of
// the repository that holds the archetypes, marked `+dirty` when the archetypes differ from it.
import { execFile } from 'node:child_process';

function git(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('git', args, { cwd, timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))));
}

/** `<sha>` or `<sha>+dirty`; undefined outside a Git checkout (e.g. a deployed package). */
export async function trackedCommit(dir: string): Promise<string | undefined> {
  try {
    const head = await git(['rev-parse', 'HEAD'], dir);
    const changed = await git(['status', '--porcelain', '--', '.'], dir);
    return changed ? `${head}+dirty` : head;
  } catch {
    return undefined;
  }
}

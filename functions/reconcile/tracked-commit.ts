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

export interface CommitAuthor {
  name: string;
  email: string;
}

/**
 * The author of a commit as Git records it, for the two-person rule. `+dirty` is dropped (the
 * uncommitted part has no author; the requester is excluded anyway). Undefined when Git does not
 * know the commit; only hex ids are passed to Git, so a caller cannot smuggle in an option.
 */
export async function commitAuthor(dir: string, commit: string | undefined): Promise<CommitAuthor | undefined> {
  const sha = commit?.replace(/\+dirty$/, '');
  if (!sha || !/^[0-9a-f]{7,40}$/i.test(sha)) return undefined;
  try {
    const out = await git(['log', '-1', '--format=%an%x00%ae', sha, '--'], dir);
    const [name = '', email = ''] = out.split('\0').map((s) => s.trim());
    return name || email ? { name, email } : undefined;
  } catch {
    return undefined;
  }
}

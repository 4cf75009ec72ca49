// The allowed signers Nexus verifies commit signatures against: NEXUS_ALLOWED_SIGNERS (text)
// followed by the content of NEXUS_ALLOWED_SIGNERS_FILE, read once by the composition root.
import { readFile, stat } from 'node:fs/promises';
import type { GitOpsSettings } from '../runtime/config.ts';

/** An allowed_signers file with key blocks is kilobytes; anything this big is a wrong path. */
export const MAX_ALLOWED_SIGNERS_BYTES = 1024 * 1024;

export class AllowedSignersFileError extends Error {
  readonly variable = 'NEXUS_ALLOWED_SIGNERS_FILE';
  constructor(readonly file: string, why: string) {
    super(`NEXUS_ALLOWED_SIGNERS_FILE (${file}): ${why}`);
    this.name = 'AllowedSignersFileError';
  }
}

/** Both sources joined by a newline; undefined when neither is set. */
export async function readAllowedSigners(settings: Pick<GitOpsSettings, 'allowedSigners' | 'allowedSignersFile'>): Promise<string | undefined> {
  const parts: string[] = [];
  if (settings.allowedSigners) parts.push(settings.allowedSigners);
  const file = settings.allowedSignersFile;
  if (file) {
    let text: string;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new AllowedSignersFileError(file, 'not a file');
      if (st.size > MAX_ALLOWED_SIGNERS_BYTES) throw new AllowedSignersFileError(file, `${st.size} bytes, more than ${MAX_ALLOWED_SIGNERS_BYTES}`);
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (e instanceof AllowedSignersFileError) throw e;
      throw new AllowedSignersFileError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    parts.push(text);
  }
  return parts.length ? parts.map((p) => p.replace(/\n+$/, '')).join('\n') : undefined;
}

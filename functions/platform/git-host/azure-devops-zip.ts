// Extracting Azure DevOps's items zip (a folder at a commit) into an empty directory, refusing what
// could escape it or blow past the snapshot limits. Small on purpose: the shared archive checks
// (archive.ts, written for the GitHub tarball) are meant to absorb these.
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, isAbsolute, sep } from 'node:path';
import type { SnapshotLimits } from './types.ts';

export class ArchiveRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveRefusedError';
  }
}

/**
 * The entry's path relative to the snapshot, or undefined for a directory entry. Throws for
 * absolute paths, `..`, backslashes, drive letters and control characters.
 */
export function safeEntryPath(name: string, prefix: string): string | undefined {
  if (name.endsWith('/')) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(name) || name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw new ArchiveRefusedError(`archive entry '${name.slice(0, 200)}' is not a relative path`);
  }
  const parts = name.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) throw new ArchiveRefusedError(`archive entry '${name.slice(0, 200)}' leaves the snapshot`);
  // The zip may keep the folder's repository path in front of each entry: strip it.
  const pre = prefix ? prefix.split('/') : [];
  const inside = pre.length && pre.every((p, i) => parts[i] === p) ? parts.slice(pre.length) : parts;
  return inside.length ? inside.join('/') : undefined;
}

/** Writes the zip's files under `dir`; `prefix` is the folder asked for ('' for the repository root). */
export async function extractZip(zip: Uint8Array, prefix: string, dir: string, limits: SnapshotLimits): Promise<{ files: number; bytes: number }> {
  let declared = 0;
  let count = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      // Sizes from the central directory are checked before anything is inflated.
      filter(f: UnzipFileInfo) {
        if (f.name.endsWith('/')) return false;
        count += 1;
        declared += f.originalSize;
        if (count > limits.maxFiles) throw new ArchiveRefusedError(`the snapshot has more than ${limits.maxFiles} files`);
        if (declared > limits.maxBytes) throw new ArchiveRefusedError(`the snapshot is larger than ${limits.maxBytes} bytes`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ArchiveRefusedError) throw err;
    throw new ArchiveRefusedError(`the items zip cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Then the sizes actually inflated (a central directory can lie) and every path, before writing.
  const plan: [string, Uint8Array][] = [];
  let bytes = 0;
  const seen = new Set<string>();
  for (const [name, data] of Object.entries(files)) {
    const rel = safeEntryPath(name, prefix);
    if (rel === undefined) continue;
    bytes += data.length;
    if (bytes > limits.maxBytes) throw new ArchiveRefusedError(`the snapshot is larger than ${limits.maxBytes} bytes`);
    const key = rel.toLowerCase();
    if (seen.has(key)) throw new ArchiveRefusedError(`archive entry '${rel}' appears twice`);
    seen.add(key);
    const target = join(dir, ...rel.split('/'));
    const back = relative(dir, target);
    if (!back || back.startsWith(`..${sep}`) || back === '..' || isAbsolute(back)) throw new ArchiveRefusedError(`archive entry '${rel}' leaves the snapshot`);
    plan.push([target, data]);
  }
  for (const [target, data] of plan) {
    await mkdir(dirname(target), { recursive: true });
    // 'wx': never follow or replace something already there.
    await writeFile(target, data, { flag: 'wx' });
  }
  return { files: plan.length, bytes };
}

// Safe extraction of a repository archive (GitHub tarball, Azure DevOps zip) into an empty folder,
// one entry at a time while the archive streams: every name is checked before anything is written
// (no absolute paths, no `..`, nothing outside the folder), sizes and counts are enforced as bytes
// arrive, and links are never created on disk. The format readers (tarball.ts; a zip reader) feed
// entries to a SafeExtraction and call finish() or discard().
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { SnapshotLimits } from './types.ts';

/** The archive broke a rule: an unsafe name, a link leaving the folder, or a limit. Not retried. */
export class ArchiveRefusedError extends Error {
  /** `context`: which archive (e.g. `github:owner/repo at <sha>`), added by the adapter. */
  constructor(readonly entry: string | undefined, readonly reason: string, readonly context?: string) {
    const where = [context, entry === undefined ? undefined : `entry '${printable(entry)}'`].filter(Boolean).join(': ');
    super(`archive refused: ${where ? `${where}: ` : ''}${reason}`);
    this.name = 'ArchiveRefusedError';
  }
}

export type ArchiveEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface ArchiveEntry {
  /** The name as the archive spells it ('/'-separated). */
  path: string;
  type: ArchiveEntryType;
  /** Symlinks: relative to the link's folder. Hard links: a name of the archive (same form as `path`). */
  linkpath?: string;
  /** Declared size in bytes, when the format says it up front. */
  size?: number;
}

export interface ExtractionOptions {
  /** Leading folders to drop from every name (1 for GitHub's `owner-repo-sha/`). */
  stripComponents: number;
  /** Sub-folder of the repository to keep ('' for all); its files land at the root of `dir`. */
  path: string;
  limits: SnapshotLimits;
}

/**
 * The whole archive, kept or not, may hold at most this many times the limits: entries outside
 * `path` are not written, but a decompression bomb among them would still burn CPU.
 */
const WHOLE_ARCHIVE_FACTOR = 8;
const MAX_LINK_HOPS = 8;

/** A repository-relative name split into safe segments; throws on anything that could leave the folder. */
export function safeSegments(raw: string): string[] {
  if (raw.length === 0) throw new ArchiveRefusedError(raw, 'empty name');
  if (raw.length > 4096) throw new ArchiveRefusedError(raw.slice(0, 200), 'name longer than 4096 characters');
  if (raw.includes('\0')) throw new ArchiveRefusedError(raw, 'NUL in the name');
  // A backslash is a separator on Windows hosts: `a\..\..\x` would climb there.
  if (raw.includes('\\')) throw new ArchiveRefusedError(raw, 'backslash in the name');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw new ArchiveRefusedError(raw, 'absolute path');
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new ArchiveRefusedError(raw, "'..' in the path");
  return segments;
}

/** `path` option → its segments ('' or '/' → none). */
export function prefixSegments(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : safeSegments(trimmed);
}

function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 300);
}

interface PendingLink {
  entry: string;
  /** Where the link sits, relative to `dir`. */
  at: string;
  /** What it points at, relative to `dir`. */
  target: string;
}

/** One extraction into `dir`. Not reusable. */
export class SafeExtraction {
  private readonly prefix: string[];
  private files = 0;
  private bytes = 0;
  private wholeBytes = 0;
  private wholeEntries = 0;
  /** Regular files written, relative to `dir` ('/'-separated) → size. */
  private readonly written = new Map<string, number>();
  private readonly links: PendingLink[] = [];
  private readonly open = new Set<WriteStream>();
  private readonly closing: Promise<void>[] = [];
  skippedLinks = 0;
  /** The first failed write (disk full, a duplicate name): finish() throws it. */
  private writeError?: Error;

  constructor(readonly dir: string, private readonly opts: ExtractionOptions) {
    this.prefix = prefixSegments(opts.path);
  }

  /** The name inside `dir`, or undefined when the entry lies outside `path` (or is a stripped folder). */
  private place(raw: string): string[] | undefined {
    const segs = safeSegments(raw).slice(this.opts.stripComponents);
    if (segs.length < this.prefix.length) return undefined;
    for (let i = 0; i < this.prefix.length; i++) if (segs[i] !== this.prefix[i]) return undefined;
    const rest = segs.slice(this.prefix.length);
    return rest.length === 0 ? undefined : rest;
  }

  private refuseOver(entry: string | undefined, what: string, n: number, max: number): void {
    if (n > max) throw new ArchiveRefusedError(entry, `${what} over the limit of ${max}`);
  }

  /**
   * Decides an entry. For a kept file, returns a sink to write its bytes to (count() then end());
   * otherwise undefined (the caller drains the entry). Throws ArchiveRefusedError.
   */
  begin(entry: ArchiveEntry): FileSink | undefined {
    const { limits } = this.opts;
    this.wholeEntries++;
    this.refuseOver(entry.path, 'entries in the whole archive', this.wholeEntries, limits.maxFiles * WHOLE_ARCHIVE_FACTOR);
    this.refuseOver(entry.path, 'bytes in the whole archive', this.wholeBytes + (entry.size ?? 0), limits.maxBytes * WHOLE_ARCHIVE_FACTOR);
    const rel = this.place(entry.path);
    if (entry.type === 'other') throw new ArchiveRefusedError(entry.path, 'not a file, folder or link');
    if (entry.type === 'symlink' || entry.type === 'hardlink') {
      this.remember(entry, rel);
      return undefined;
    }
    if (!rel) return undefined;
    const target = join(this.dir, ...rel);
    if (entry.type === 'directory') {
      mkdirSync(target, { recursive: true });
      return undefined;
    }
    this.files++;
    this.refuseOver(entry.path, 'files', this.files, limits.maxFiles);
    this.refuseOver(entry.path, 'bytes', this.bytes + (entry.size ?? 0), limits.maxBytes);
    mkdirSync(dirname(target), { recursive: true });
    // 'wx': a second entry of the same name is refused rather than silently replacing the first.
    const ws = createWriteStream(target, { flags: 'wx', mode: 0o644 });
    this.open.add(ws);
    ws.on('error', (e) => { this.writeError ??= e; });
    this.closing.push(new Promise<void>((resolve) => ws.once('close', () => { this.open.delete(ws); resolve(); })));
    this.written.set(rel.join('/'), 0);
    return new FileSink(this, entry.path, rel.join('/'), ws);
  }

  /** Bytes arriving for a kept file (or, with kept=false, for a skipped one). Throws over the limits. */
  count(entry: string, n: number, keptAs?: string): void {
    this.wholeBytes += n;
    this.refuseOver(entry, 'bytes in the whole archive', this.wholeBytes, this.opts.limits.maxBytes * WHOLE_ARCHIVE_FACTOR);
    if (keptAs === undefined) return;
    this.bytes += n;
    this.written.set(keptAs, (this.written.get(keptAs) ?? 0) + n);
    this.refuseOver(entry, 'bytes', this.bytes, this.opts.limits.maxBytes);
  }

  private remember(entry: ArchiveEntry, rel: string[] | undefined): void {
    const link = entry.linkpath ?? '';
    if (link.startsWith('/') || /^[A-Za-z]:/.test(link)) throw new ArchiveRefusedError(entry.path, `link to the absolute path '${printable(link)}'`);
    if (!rel) return; // outside `path`: never materialised, so where it points does not matter
    let target: string[] | undefined;
    if (entry.type === 'hardlink') {
      target = this.place(link);
    } else {
      // Resolved lexically from the link's folder; nothing on disk is a link, so lexical is exact.
      const joined = posix.normalize(posix.join(...this.prefix, ...rel.slice(0, -1), link));
      if (joined === '..' || joined.startsWith('../')) throw new ArchiveRefusedError(entry.path, `link to '${printable(link)}' leaves the folder`);
      const segs = joined === '.' ? [] : joined.split('/');
      target = segs.length >= this.prefix.length && this.prefix.every((p, i) => segs[i] === p) ? segs.slice(this.prefix.length) : undefined;
    }
    if (!target) throw new ArchiveRefusedError(entry.path, `link to '${printable(link)}' leaves the folder`);
    this.links.push({ entry: entry.path, at: rel.join('/'), target: target.join('/') });
  }

  /**
   * After the last entry: waits for the files to be flushed, then writes each in-folder link to a
   * file as a copy of that file (links to folders or to nothing are skipped, and counted).
   */
  async finish(): Promise<{ files: number; bytes: number; skippedLinks: number }> {
    await Promise.all(this.closing);
    if (this.writeError) throw this.writeError;
    const byPath = new Map(this.links.map((l) => [l.at, l]));
    for (const link of this.links) {
      let target = link.target;
      for (let hops = 0; byPath.has(target) && hops < MAX_LINK_HOPS; hops++) target = byPath.get(target)!.target;
      if (!this.written.has(target) || this.written.has(link.at)) {
        this.skippedLinks++;
        continue;
      }
      const size = (await stat(join(this.dir, target))).size;
      this.files++;
      this.refuseOver(link.entry, 'files', this.files, this.opts.limits.maxFiles);
      this.bytes += size;
      this.refuseOver(link.entry, 'bytes', this.bytes, this.opts.limits.maxBytes);
      const to = join(this.dir, link.at);
      mkdirSync(dirname(to), { recursive: true });
      await copyFile(join(this.dir, target), to);
      this.written.set(link.at, size);
    }
    return { files: this.files, bytes: this.bytes, skippedLinks: this.skippedLinks };
  }

  /** After a failure: closes what is open and removes everything written under `dir` (not `dir`). */
  async discard(): Promise<void> {
    for (const ws of this.open) ws.destroy();
    await Promise.all(this.closing);
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

/** Where one kept file's bytes go; honours the write stream's back-pressure through `write`'s result. */
export class FileSink {
  constructor(private readonly x: SafeExtraction, private readonly entry: string, private readonly rel: string, private readonly ws: WriteStream) {}

  /** Counts then writes; false means wait for `drain` (the stream's). Throws over the limits. */
  write(chunk: Uint8Array): boolean {
    this.x.count(this.entry, chunk.length, this.rel);
    return this.ws.write(chunk);
  }

  onDrain(fn: () => void): void {
    this.ws.once('drain', fn);
  }

  onError(fn: (e: Error) => void): void {
    this.ws.once('error', fn);
  }

  end(): void {
    this.ws.end();
  }
}

// The landing-zone repository's files at a commit, as folders on local disk: downloaded once per
// commit through the Git host's archive (no `git` binary in Azure Functions), into a temporary
// folder beside the cache that is renamed into place only when complete, so a half-read commit is
// never compiled. Bounded in bytes, least recently used first out, never a folder a caller holds.
//
// Layout: <dir>/<scope>/<commit>/{tree/, snapshot.json}, scope = hash of repository and sub-path.
// snapshot.json is written after every file and before the rename; a folder without it is not a
// snapshot (removed when found). Evicted folders are renamed away first, then deleted, so a crash
// mid-delete never leaves a marked folder with missing files.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { GitRefNotFoundError, type GitHost } from '../platform/git-host/types.ts';

/** Files of one snapshot at most (the host refuses an archive with more). */
export const DEFAULT_MAX_FILES = 20_000;
const MARKER = 'snapshot.json';
const TREE = 'tree';
const COMMIT_ID = /^[0-9a-f]{40}$/;

export interface SnapshotCacheOptions {
  host: Pick<GitHost, 'id' | 'download'>;
  /** Sub-folder of the repository to download ('' for all of it). */
  path: string;
  /** Cache root; default `<os tmpdir>/nexus-repos`. */
  dir?: string;
  /** All snapshots together (bytes of their files). */
  maxBytes: number;
  /** One snapshot; a bigger archive is refused by the host. */
  maxSnapshotBytes: number;
  maxFiles?: number;
}

/** A caller's hold on a snapshot: its folder is not evicted before `release()`. */
export interface SnapshotLease {
  commit: string;
  /** The folder holding the files of the configured sub-path at `commit`. */
  dir: string;
  bytes: number;
  release(): void;
}

interface Entry {
  commit: string;
  bytes: number;
  refs: number;
  /** Settled once the folder is in place (or the download failed). */
  ready: Promise<void>;
  loaded: boolean;
}

const markerSchema = z.object({ commit: z.string().regex(COMMIT_ID), bytes: z.number().int().nonnegative(), files: z.number().int().nonnegative() });

/** A commit id: 40 hexadecimal digits (a branch is resolved with GitHost.branchHead first). */
export function commitId(commit: string): string {
  const c = commit.toLowerCase();
  if (!COMMIT_ID.test(c)) throw new GitRefNotFoundError(commit, `'${commit.slice(0, 80)}' is not a commit id (40 hexadecimal digits)`);
  return c;
}

export class SnapshotCache {
  readonly root: string;
  private readonly opts: SnapshotCacheOptions;
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  private opened?: Promise<void>;

  constructor(opts: SnapshotCacheOptions) {
    this.opts = opts;
    const scope = createHash('sha256').update(`${opts.host.id}\0${opts.path}`).digest('hex').slice(0, 16);
    this.root = join(opts.dir ?? join(tmpdir(), 'nexus-repos'), scope);
  }

  /** Bytes held by complete snapshots. */
  get bytes(): number {
    return this.total;
  }

  /** Commits on disk, least recently used first (for tests and diagnostics). */
  commits(): string[] {
    return [...this.entries.values()].filter((e) => e.loaded).map((e) => e.commit);
  }

  /**
   * Holds the snapshot of `commit`, downloading it when it is not on disk (concurrent callers share
   * one download). Throws GitRefNotFoundError for an unknown commit, and whatever the host throws;
   * nothing is left on disk then, and the next call downloads again.
   */
  async lease(commit: string): Promise<SnapshotLease> {
    const id = commitId(commit);
    await this.open();
    let entry = this.entries.get(id);
    if (entry) this.entries.delete(id);
    else entry = { commit: id, bytes: 0, refs: 0, loaded: false, ready: Promise.resolve() };
    this.entries.set(id, entry);
    // Counted before awaiting, so an eviction meanwhile cannot take it.
    entry.refs++;
    if (!entry.loaded && entry.refs === 1) entry.ready = this.load(entry);
    try {
      await entry.ready;
    } catch (e) {
      entry.refs--;
      throw e;
    }
    // Recency survives a restart through the folder's time.
    const now = new Date();
    await utimes(this.folder(id), now, now).catch(() => undefined);
    let released = false;
    return {
      commit: id,
      dir: join(this.folder(id), TREE),
      bytes: entry.bytes,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        void this.evict();
      },
    };
  }

  /** Runs `fn` with the snapshot's folder, held until `fn` settles. */
  async use<T>(commit: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
    const lease = await this.lease(commit);
    try {
      return await fn(lease.dir);
    } finally {
      lease.release();
    }
  }

  private folder(commit: string): string {
    return join(this.root, commit);
  }

  private async load(entry: Entry): Promise<void> {
    const tmp = join(this.root, `.tmp-${entry.commit}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(join(tmp, TREE), { recursive: true });
      await this.opts.host.download(entry.commit, this.opts.path, join(tmp, TREE), {
        maxBytes: this.opts.maxSnapshotBytes,
        maxFiles: this.opts.maxFiles ?? DEFAULT_MAX_FILES,
      });
      // Measured on disk rather than taken from the host: the bound holds whatever the host says,
      // and a restart can tell a snapshot that lost files (a temp cleaner) from a complete one.
      const got = await measure(join(tmp, TREE));
      // The marker last: a folder carrying it holds every file.
      await writeFile(join(tmp, MARKER), JSON.stringify({ commit: entry.commit, ...got }));
      await this.place(tmp, entry.commit);
      entry.bytes = got.bytes;
    } catch (e) {
      // Out of the map first: a caller arriving now starts a new download instead of joining this one.
      if (this.entries.get(entry.commit) === entry) this.entries.delete(entry.commit);
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
    entry.loaded = true;
    this.total += entry.bytes;
    await this.evict();
  }

  /** Renames the complete download into place; another process may have placed the same commit first. */
  private async place(tmp: string, commit: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await rename(tmp, this.folder(commit));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 0) throw e;
        if (await readMarker(this.folder(commit))) return void (await rm(tmp, { recursive: true, force: true }));
        // Not a snapshot (no marker): out of the way, then try once more.
        await this.discard(this.folder(commit));
      }
    }
  }

  /** Drops least recently used snapshots nobody holds until the total fits. */
  private async evict(): Promise<void> {
    const victims: Entry[] = [];
    for (const e of this.entries.values()) {
      if (this.total <= this.opts.maxBytes) break;
      if (!e.loaded || e.refs > 0) continue;
      victims.push(e);
      this.total -= e.bytes;
    }
    for (const e of victims) this.entries.delete(e.commit);
    await Promise.all(victims.map((e) => this.discard(this.folder(e.commit))));
  }

  private async discard(folder: string): Promise<void> {
    const trash = join(this.root, `.trash-${randomBytes(6).toString('hex')}`);
    try {
      await rename(folder, trash);
    } catch {
      return;
    }
    await rm(trash, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Once: adopts marked snapshots found on disk (oldest use first), removes everything else. */
  private open(): Promise<void> {
    // A failure (the folder cannot be made) is not kept: the next call tries again.
    this.opened ??= this.scan().catch((e) => {
      this.opened = undefined;
      throw e;
    });
    return this.opened;
  }

  private async scan(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const found: { entry: Entry; used: number }[] = [];
    for (const name of await readdir(this.root)) {
      const folder = join(this.root, name);
      const marker = COMMIT_ID.test(name) ? await readMarker(folder) : undefined;
      const intact = marker && marker.commit === name && (await measure(join(folder, TREE)).then((m) => m.files === marker.files && m.bytes === marker.bytes, () => false));
      if (!marker || !intact) {
        // Leftovers of a crash: a download or a deletion that did not finish.
        await rm(folder, { recursive: true, force: true }).catch(() => undefined);
        continue;
      }
      const used = await stat(folder).then((st) => st.mtimeMs, () => 0);
      found.push({ entry: { commit: name, bytes: marker.bytes, refs: 0, loaded: true, ready: Promise.resolve() }, used });
    }
    found.sort((a, b) => a.used - b.used);
    for (const { entry } of found) {
      this.entries.set(entry.commit, entry);
      this.total += entry.bytes;
    }
    await this.evict();
  }
}

/** Regular files under `dir` and their total size (links are not followed). */
async function measure(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue;
    files++;
    bytes += (await lstat(join(d.parentPath, d.name))).size;
  }
  return { files, bytes };
}

async function readMarker(folder: string): Promise<z.infer<typeof markerSchema> | undefined> {
  try {
    const text = await readFile(join(folder, MARKER), 'utf8');
    if (text.length > 4096) return undefined;
    const parsed = markerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

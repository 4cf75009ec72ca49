// Azure DevOps's items zip (a folder at a commit) → files in a folder, streamed: fflate's Unzip reads
// entries as the response arrives and every entry goes through SafeExtraction (archive.ts, shared
// with the GitHub tarball), so names are checked before anything is written and the byte/file
// limits are enforced while inflating: a zip bomb stops at the limit, not after it was inflated.
// Entry names are never used as object keys. On any failure everything written is removed.
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { ArchiveRefusedError, prefixSegments, SafeExtraction, type ExtractionOptions } from './archive.ts';

/** Input is pushed in slices this small: one push inflates at most ~1000× it before the limits are checked. */
const SLICE = 4096;
/** The end-of-central-directory record sits in the last 22 bytes plus a comment of up to 64 KiB. */
const EOCD_WINDOW = 22 + 0xffff;
const EOCD_SIGNATURE = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/** The zip keeps the folder's repository path in front of each entry or not; decided on the first entry. */
function keepsPrefix(name: string, prefix: string[]): boolean {
  const segs = name.split('/').filter((s) => s !== '' && s !== '.');
  return prefix.every((p, i) => segs[i] === p);
}

/**
 * Writes the zip's files under `dir` (empty). `opts.path` is the folder asked for ('' for the
 * repository root); its files land at the root of `dir`. Throws ArchiveRefusedError for a broken
 * rule, the source's error when it breaks, or an Error for a corrupt or cut-short zip.
 */
export async function extractZip(source: AsyncIterable<Uint8Array>, dir: string, opts: ExtractionOptions): Promise<{ files: number; bytes: number }> {
  const prefix = prefixSegments(opts.path);
  let x: SafeExtraction | undefined;
  let unfinished = 0;
  let drain: Promise<void> | undefined;

  const unzip = new Unzip((file: UnzipFile) => {
    x ??= new SafeExtraction(dir, { ...opts, path: keepsPrefix(file.name, prefix) ? opts.path : '' });
    const ex = x;
    if (file.name.endsWith('/')) {
      ex.begin({ path: file.name, type: 'directory' });
      return;
    }
    if (file.compression !== 0 && file.compression !== UnzipInflate.compression) {
      throw new ArchiveRefusedError(file.name, `compression method ${file.compression} is not supported`);
    }
    const sink = ex.begin({ path: file.name, type: 'file', size: file.originalSize });
    unfinished++;
    // A failed write (a duplicate name, disk full) ends a wait for 'drain', as the extraction's failure.
    let wake: ((e?: Error) => void) | undefined;
    sink?.onError((e) => wake?.(e));
    // Thrown errors (a limit, a corrupt stream) leave through unzip.push() below, stopping inflation.
    file.ondata = (err, chunk, final) => {
      if (err) throw err;
      if (!sink) {
        ex.count(file.name, chunk.length); // skipped entries still count against the whole-archive bound
      } else if (!sink.write(chunk)) {
        if (!drain) {
          drain = new Promise<void>((resolve, reject) => { wake = (e) => (e ? reject(e) : resolve()); sink.onDrain(() => wake?.()); });
          drain.catch(() => undefined); // dropped when the entry ends; finish() reports the error then
        }
      }
      if (final) {
        unfinished--;
        sink?.end();
        // An ended stream never emits 'drain': its buffered bytes are awaited by finish() instead.
        if (sink) drain = undefined;
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);

  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of source) {
      const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBufferLike);
      for (let at = 0; at < bytes.length; at += SLICE) {
        unzip.push(bytes.subarray(at, at + SLICE));
        if (drain) { await drain; drain = undefined; }
      }
      // Only the last EOCD_WINDOW bytes are kept, to check the zip was not cut short.
      const keep = Math.max(0, EOCD_WINDOW - bytes.length);
      tail = Buffer.concat([tail.subarray(Math.max(0, tail.length - keep)), bytes.subarray(Math.max(0, bytes.length - EOCD_WINDOW))]);
    }
    unzip.push(new Uint8Array(0), true);
    if (unfinished > 0 || tail.lastIndexOf(EOCD_SIGNATURE) < 0) throw new Error('the zip ends before its central directory (cut short)');
    if (!x) return { files: 0, bytes: 0 };
    const r = await x.finish();
    return { files: r.files, bytes: r.bytes };
  } catch (e) {
    await x?.discard();
    if (e instanceof ArchiveRefusedError) throw e;
    // fflate's own errors (invalid data) carry a numeric code; name them as a corrupt zip.
    if (e instanceof Error && typeof (e as { code?: unknown }).code === 'number') throw new Error(`the zip cannot be read: ${e.message}`);
    throw e;
  }
}

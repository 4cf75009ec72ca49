// A (gzipped) tar stream → files in a folder, through SafeExtraction's checks, never holding the
// archive in memory: node-tar's Parser reads entries as bytes arrive and waits while a file's write
// stream drains. On any failure everything written is removed and the error is thrown.
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { SafeExtraction, type ArchiveEntryType, type ExtractionOptions } from './archive.ts';

function kindOf(type: ReadEntry['type']): ArchiveEntryType | 'meta' {
  switch (type) {
    case 'File': case 'OldFile': case 'ContiguousFile': return 'file';
    case 'Directory': return 'directory';
    case 'SymbolicLink': return 'symlink';
    case 'Link': return 'hardlink';
    // Pax and GNU long-name headers are folded into the next entry by the parser; GitHub's
    // pax_global_header (the commit id) is one of these.
    case 'GlobalExtendedHeader': case 'ExtendedHeader': case 'OldExtendedHeader':
    case 'NextFileHasLongPath': case 'NextFileHasLongLinkpath': case 'OldGnuLongPath': return 'meta';
    default: return 'other';
  }
}

export async function extractTarball(source: Readable, dir: string, opts: ExtractionOptions): Promise<{ files: number; bytes: number; skippedLinks: number }> {
  const x = new SafeExtraction(dir, opts);
  let failure: Error | undefined;
  // strict: a checksum failure or truncated archive is an error, not a warning.
  const parser = new Parser({ strict: true });
  const fail = (e: unknown) => {
    if (failure) return;
    failure = e instanceof Error ? e : new Error(String(e));
    parser.abort(failure);
    source.destroy();
  };

  // Two zero blocks end every tar; without them the archive was cut short, even at an entry boundary.
  let sawEof = false;
  parser.on('eof', () => { sawEof = true; });

  parser.on('entry', (entry: ReadEntry) => {
    if (failure) return void entry.resume();
    try {
      const kind = kindOf(entry.type);
      if (kind === 'meta') return void entry.resume();
      const sink = x.begin({ path: entry.path, type: kind, linkpath: entry.linkpath, size: entry.size });
      if (!sink) {
        // Skipped bytes still count against the whole-archive bound.
        entry.on('data', (c: Buffer) => { try { x.count(entry.path, c.length); } catch (e) { fail(e); } });
        return void entry.resume();
      }
      sink.onError(fail);
      entry.on('data', (c: Buffer) => {
        if (failure) return;
        try {
          if (!sink.write(c)) {
            entry.pause();
            sink.onDrain(() => entry.resume());
          }
        } catch (e) {
          fail(e);
        }
      });
      entry.on('end', () => sink.end());
    } catch (e) {
      fail(e);
      entry.resume();
    }
  });

  await new Promise<void>((resolve) => {
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(); } };
    parser.on('error', (e: Error) => { fail(e); finish(); });
    parser.on('abort', finish);
    parser.on('end', finish);
    parser.on('close', finish);
    source.on('error', (e) => { fail(e); finish(); });
    source.on('close', () => { if (!source.readableEnded) { fail(failure ?? new Error('the archive stream closed early')); finish(); } });
    source.pipe(parser as unknown as NodeJS.WritableStream);
  });

  if (!failure && !sawEof) failure = new Error('the archive ends before its end-of-archive blocks (cut short)');
  if (!failure) {
    try {
      return await x.finish();
    } catch (e) {
      failure = e as Error;
    }
  }
  await x.discard();
  // ArchiveRefusedError (a rule broken), or a corrupt stream, a disk error, the connection dropping.
  throw failure;
}

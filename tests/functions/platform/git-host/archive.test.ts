// SafeExtraction on its own, as a zip reader (no declared sizes) or the tar reader drives it:
// names, links, duplicates, limits counted as bytes arrive, and nothing left after a refusal.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveRefusedError, SafeExtraction, safeSegments, type ArchiveEntry } from '../../../../functions/platform/git-host/archive.ts';

const LIMITS = { maxBytes: 100, maxFiles: 5 };
const dirs: string[] = [];
const fresh = async () => { const d = await mkdtemp(join(tmpdir(), 'archive-')); dirs.push(d); return d; };
test.after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

/** Feeds entries as a streaming reader would (file bodies in 7-byte chunks, no declared size). */
async function run(x: SafeExtraction, entries: (ArchiveEntry & { body?: string })[]) {
  try {
    for (const e of entries) {
      const sink = x.begin(e);
      if (!sink) continue;
      const data = Buffer.from(e.body ?? '');
      for (let i = 0; i < data.length; i += 7) sink.write(data.subarray(i, i + 7));
      sink.end();
    }
    return await x.finish();
  } catch (err) {
    await x.discard();
    throw err;
  }
}

test('names that could leave the folder are refused', () => {
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\..\\x', 'a\0b', '']) {
    assert.throws(() => safeSegments(bad), (e: unknown) => e instanceof ArchiveRefusedError, bad);
  }
  assert.equal(safeSegments('./a//b/./c'), ['a', 'b', 'c']);
});

test('files under path land at the root; links become copies; link chains followed; folder links skipped', async () => {
  const dir = await fresh();
  const x = new SafeExtraction(dir, { stripComponents: 0, path: 'lz/', limits: LIMITS });
  const r = await run(x, [
    { path: 'README.md', type: 'file', body: 'outside' },
    { path: 'lz/a.yaml', type: 'file', body: 'a: 1\n' },
    { path: 'lz/b', type: 'symlink', linkpath: 'c' },
    { path: 'lz/c', type: 'symlink', linkpath: './a.yaml' },
    { path: 'lz/d', type: 'symlink', linkpath: '.' },
    { path: 'lz/e', type: 'hardlink', linkpath: 'lz/a.yaml' },
    { path: 'elsewhere', type: 'symlink', linkpath: 'lz' },
  ]);
  assert.equal(r, { files: 4, bytes: 20, skippedLinks: 1 });
  assert.equal((await readdir(dir)).sort(), ['a.yaml', 'b', 'c', 'e']);
  assert.is(await readFile(join(dir, 'b'), 'utf8'), 'a: 1\n');
});

test('limits are counted as bytes arrive, without declared sizes, and nothing is left', async () => {
  const dir = await fresh();
  const big = new SafeExtraction(dir, { stripComponents: 0, path: '', limits: LIMITS });
  const e = await run(big, [{ path: 'a', type: 'file', body: 'x'.repeat(60) }, { path: 'b', type: 'file', body: 'y'.repeat(60) }]).catch((err) => err);
  assert.instance(e, ArchiveRefusedError);
  assert.match(e.message, /entry 'b': bytes over the limit of 100/);
  assert.equal(await readdir(dir), []);

  const many = new SafeExtraction(dir, { stripComponents: 0, path: '', limits: LIMITS });
  const m = await run(many, Array.from({ length: 6 }, (_, i) => ({ path: `f${i}`, type: 'file' as const, body: 'z' }))).catch((err) => err);
  assert.match(m.message, /files over the limit of 5/);
  assert.equal(await readdir(dir), []);

  // Links count too: a copy is a file.
  const linked = new SafeExtraction(dir, { stripComponents: 0, path: '', limits: LIMITS });
  const l = await run(linked, [{ path: 'a', type: 'file', body: 'x'.repeat(60) }, { path: 'b', type: 'symlink', linkpath: 'a' }]).catch((err) => err);
  assert.match(l.message, /entry 'b': bytes over the limit of 100/);
  assert.equal(await readdir(dir), []);
});

test('outside path, a decompression bomb is still bounded; duplicates and devices are refused', async () => {
  const dir = await fresh();
  const bomb = new SafeExtraction(dir, { stripComponents: 0, path: 'lz', limits: LIMITS });
  const b = await run(bomb, [{ path: 'other/huge', type: 'file', size: 10_000 }]).catch((err) => err);
  assert.match(b.message, /bytes in the whole archive over the limit of 800/);

  const dup = new SafeExtraction(dir, { stripComponents: 0, path: '', limits: LIMITS });
  const d = await run(dup, [{ path: 'a', type: 'file', body: '1' }, { path: 'a', type: 'file', body: '2' }]).catch((err) => err);
  assert.ok(d instanceof Error);
  assert.equal(await readdir(dir), []);

  const dev = new SafeExtraction(dir, { stripComponents: 0, path: '', limits: LIMITS });
  assert.match((await run(dev, [{ path: 'null', type: 'other' }]).catch((err) => err)).message, /not a file, folder or link/);
});

test.run();

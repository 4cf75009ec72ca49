// `nexus catalog import PATH|URL`: sends catalog-info files (and the files their Location documents
// point at, and the files their placeholders read) to the running Nexus API, which imports each
// valid document and reports the others.
import type { Command } from 'commander';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';
import { readYamlDocuments } from '../../catalog/ingestion/yaml-docs.ts';
import { findPlaceholders, placeholderTarget, PLACEHOLDER_LIMITS, Unresolvable } from '../../catalog/ingestion/placeholders.ts';
import type { CliContext } from '../context.ts';
import { apiToken } from '../api-client.ts';

const CATALOG_FILE = /^catalog-info\.ya?ml$/;
const SKIP_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', 'dist', 'coverage']);
const MAX_DEPTH = 5;

export interface CatalogFile {
  name: string;
  content: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

async function readTarget(target: string, opts: { redirect?: RequestRedirect } = {}): Promise<string> {
  if (isUrl(target)) {
    let res: Response;
    try {
      res = await fetch(target, opts);
    } catch (err) {
      throw new UserError(`${target}: cannot fetch (${(err as Error).message})`);
    }
    if (!res.ok) throw new UserError(`${target}: HTTP ${res.status}`);
    return res.text();
  }
  try {
    return await readFile(target, 'utf8');
  } catch (err) {
    throw new UserError(`${target}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

async function findCatalogFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) out.push(...(await findCatalogFiles(join(dir, entry.name))));
    else if (entry.isFile() && CATALOG_FILE.test(entry.name)) out.push(join(dir, entry.name));
  }
  return out.sort();
}

/** Location targets of a file, resolved against the file's own place (path or URL). */
function locationTargets(content: string, from: string): string[] {
  const targets: string[] = [];
  // Documents with YAML errors (or over the limits) are skipped here: the API names them.
  for (const doc of readYamlDocuments(content, from).docs) {
    const v = doc.value as { kind?: unknown; spec?: { target?: unknown; targets?: unknown } } | null;
    if (v?.kind !== 'Location') continue;
    const raw = [v.spec?.target, ...(Array.isArray(v.spec?.targets) ? v.spec!.targets : [])].filter((t): t is string => typeof t === 'string');
    for (const t of raw) {
      const target = t.replace(/^(url|file):/, '');
      targets.push(isUrl(target) ? target : isUrl(from) ? new URL(target, from).toString() : resolve(dirname(from), target));
    }
  }
  return targets;
}

/** Every file to send: the given file, URL or directory's catalog-info files, and Location targets. */
export async function collectCatalogFiles(input: string, cwd = process.cwd()): Promise<CatalogFile[]> {
  return (await collectImport(input, cwd)).files;
}

/**
 * The catalog files to send, and the files their placeholders read (assets). Placeholders are read
 * only inside the import root: the directory given, or the directory of the file given; those
 * outside it are not read, and the API reports them as unresolved.
 */
export async function collectImport(input: string, cwd = process.cwd()): Promise<{ files: CatalogFile[]; assets: CatalogFile[] }> {
  let roots: string[];
  let root: string;
  if (isUrl(input)) { roots = [input]; root = ''; }
  else {
    const path = resolve(cwd, input);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UserError(`${input}: no such file or directory`);
    roots = info.isDirectory() ? await findCatalogFiles(path) : [path];
    if (roots.length === 0) throw new UserError(`${input}: no catalog-info.yaml files in this directory`);
    root = nameOf(info.isDirectory() ? path : dirname(path), cwd);
  }
  const files: CatalogFile[] = [];
  const seen = new Set<string>();
  const visit = async (target: string, depth: number) => {
    if (seen.has(target) || depth > MAX_DEPTH) return;
    seen.add(target);
    const content = await readTarget(target);
    files.push({ name: isUrl(target) ? target : nameOf(target, cwd), content });
    for (const next of locationTargets(content, target)) await visit(next, depth + 1);
  };
  for (const r of roots) await visit(r, 0);
  return { files, assets: await placeholderAssets(files, root, cwd) };
}

function sameOrigin(url: string, file: string): boolean {
  if (!isUrl(file)) return false;
  try { return new URL(url).origin === new URL(file).origin; } catch { return false; }
}

/** A local path as the name the API sees: relative to the working directory, with '/' separators. */
function nameOf(path: string, cwd: string): string {
  return (relative(cwd, path) || '.').split(sep).join('/');
}

async function placeholderAssets(files: CatalogFile[], root: string, cwd: string): Promise<CatalogFile[]> {
  const assets = new Map<string, string>();
  let chars = 0;
  for (const f of files) {
    for (const { value } of readYamlDocuments(f.content, f.name).docs) {
      for (const p of findPlaceholders(value)) {
        let target: string;
        try { target = placeholderTarget(p.target, f.name, root === '.' ? '' : root); } catch (err) {
          if (err instanceof Unresolvable) continue; // outside the root: not read; the API says why
          throw err;
        }
        if (assets.has(target) || files.some((x) => x.name === target)) continue;
        // A URL is read only beside the file that names it (same origin, no redirects): a file must
        // not make this machine read other hosts (cloud metadata, intranet) and upload the answer.
        if (isUrl(target) && !sameOrigin(target, f.name)) continue;
        const content = await readTarget(isUrl(target) ? target : resolve(cwd, ...target.split(posix.sep)), { redirect: 'error' }).catch(() => undefined);
        // Too large or unreadable: not sent; the API reports the placeholder as unresolved.
        if (content === undefined || content.length > PLACEHOLDER_LIMITS.maxChars || chars + content.length > PLACEHOLDER_LIMITS.maxTotalChars) continue;
        chars += content.length;
        assets.set(target, content);
      }
    }
  }
  return [...assets].map(([name, content]) => ({ name, content }));
}

interface Problem { status: number; detail?: string; errors?: Array<{ field: string; message: string }> }

export function register(program: Command, ctx: CliContext): void {
  const catalog = program.commands.find((c) => c.name() === 'catalog')
    ?? program.command('catalog').description('the software catalog: entities, relations, imports');
  catalog
    .command('import')
    .description('import catalog-info files (Backstage or nexus/v1) into the running Nexus; invalid documents are refused and listed')
    .argument('<source>', 'a catalog-info.yaml file, a directory (searched for catalog-info.yaml), or an http(s) URL')
    .option('--api <url>', 'the Nexus API (default NEXUS_API_URL, else http://127.0.0.1:7070)')
    .option('--json', 'print JSON')
    .action(async (source: string, opts: { api?: string; json?: boolean }) => {
      const config = ctx.config();
      const api = (opts.api ?? config.cli.apiUrl).replace(/\/+$/, '');
      const { files, assets } = await collectImport(source);
      const token = await apiToken(config);
      let res: Response;
      try {
        res = await fetch(`${api}/api/v1/import`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ files, assets }),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new UserError(`cannot reach the Nexus API at ${api} (${cause}); start it with \`npm run up\` or pass --api`);
      }
      const body = (await res.json().catch(() => ({}))) as Problem & ImportAnswer;
      if (!res.ok) {
        const details = (body.errors ?? []).slice(0, 10).map((e) => `\n  ${e.field}: ${e.message}`).join('');
        throw new UserError(`import refused (HTTP ${res.status}): ${body.detail ?? res.statusText}${details}`);
      }
      const refused = body.refused ?? [];
      if (opts.json) {
        process.stdout.write(JSON.stringify({ api, files: files.map((f) => f.name), assets: assets.map((a) => a.name), ...body }) + '\n');
      } else {
        const imported = body.imported ?? [];
        process.stdout.write(`imported ${imported.length} entit${imported.length === 1 ? 'y' : 'ies'} from ${files.length} file${files.length === 1 ? '' : 's'} into ${api}\n`);
        for (const e of imported) process.stdout.write(`  ${e.ref}  (${e.file})\n`);
        for (const u of body.unresolved ?? []) process.stdout.write(`  unresolved: ${u.ref} ${u.field}: ${u.placeholder} ${u.target}: ${u.reason}\n`);
        for (const o of body.orphaned ?? []) process.stdout.write(`  orphaned: ${o} (no longer in its file)\n`);
        for (const f of body.orphaningSkipped ?? []) process.stdout.write(`  not orphaned: ${f} has a refused document that names no entity\n`);
        for (const r of refused) process.stdout.write(`  refused: ${r.file}[document ${r.document}]${r.ref ? ` ${r.ref}` : ''}: ${r.reason}\n`);
      }
      // Something was not imported: say so in the exit code, so scripts and CI notice.
      if (refused.length) throw new UserError(`${refused.length} document${refused.length === 1 ? ' was' : 's were'} refused; the others were imported`);
    });
}

interface ImportAnswer {
  imported?: Array<{ ref: string; file: string }>;
  refused?: Array<{ file: string; document: number; ref?: string; reason: string }>;
  unresolved?: Array<{ ref: string; field: string; placeholder: string; target: string; reason: string }>;
  orphaned?: string[];
  orphaningSkipped?: string[];
}

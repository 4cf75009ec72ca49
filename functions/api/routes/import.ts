// POST /api/v1/import: catalog-info files (Backstage or nexus/v1 YAML, several documents each) in
// one request, as `nexus catalog import` sends them, with the files their placeholders ($text,
// $json, $yaml) read. Every document of every file is parsed, resolved and validated (the catalog's
// full check, references included) before the first write; a document that fails is refused and
// reported (file, document, field) and the others are imported. YAML that cannot be read safely
// (syntax, alias bombs, too deep or too large) refuses the whole request (400), and so does a
// document the principal may not write (403): nothing is stored then. Each file of each importer is
// its own source, so an entity a file stops listing becomes orphaned (if the importer may write it).
import { posix } from 'node:path';
import { createRoute } from '@hono/zod-openapi';
import { apiApp, json, problems, type ApiApp } from '../openapi.ts';
import { ImportBodySchema, ImportResultSchema } from '../schemas/import.ts';
import { requireRole, rightsFor } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ProblemError, type FieldError } from '../problem.ts';
import { apiSource } from './catalog.ts';
import { authoriseWrite, keepClaims, ownerOf } from '../write-rules.ts';
import { decorateEntity, readCatalogFile, type DocumentRefusal, type ParsedCatalogFile } from '../../catalog/ingestion/catalog-file.ts';
import { refusal, refOfDocument } from '../../catalog/ingestion/catalog-docs.ts';
import { newBudget, PLACEHOLDER_LIMITS } from '../../catalog/ingestion/placeholders.ts';
import { commonRoot, sentFilesReader } from '../../catalog/ingestion/sent-files.ts';
import { PartialWriteError } from '../../catalog/service.ts';
import { ValidationError, type Entity, type SourceInfo } from '../../catalog/kinds.ts';
import { entityRefOf } from '../../catalog/refs.ts';

const importRoute = createRoute({
  method: 'post', path: '/api/v1/import', tags: ['catalog'], summary: 'Import catalog-info files (each document on its own)',
  middleware: [requireRole('PlatformEngineer', 'TeamLead')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: ImportBodySchema } } } },
  responses: {
    200: json(ImportResultSchema, 'the valid documents were imported; `refused` lists the others'),
    ...problems(401),
    400: { ...problems(400)[400], description: 'a file is not readable YAML (syntax, aliases, depth or size): nothing was stored' },
    403: { ...problems(403)[403], description: 'a document is not yours to write; nothing was stored' },
    409: { ...problems(409)[409], description: 'entities changed while importing: the problem lists what was written and what not' },
    503: { ...problems(503)[503], description: 'storage failed part-way: the problem lists what was written and what not' },
  },
});

export function importRoutes(deps: ApiDeps): ApiApp {
  const app = apiApp();
  app.openapi(importRoute, async (c) => {
    const { files, assets = [] } = c.req.valid('json');
    const principal = c.get('principal');
    // A file name is only unique per importer (everyone has a catalog-info.yaml): the source scope
    // is the importer's User (or subject) plus the name, so one team's import never orphans another's.
    const me = deps.catalog.identify(principal);
    const importer = me.user ?? `subject:${principal.id}`;
    const sourceOf = (file: string): SourceInfo => apiSource(deps, principal, 'catalog-file', `${importer}|${file}`);
    const mayWrite = (e: Entity) => rightsFor(principal, ownerOf(e), me).write;

    // 1. Read every file: YAML that cannot be read safely stops the request; bad documents are refused.
    const errors: FieldError[] = [];
    const parsed: Array<{ name: string; file: ParsedCatalogFile }> = [];
    const reader = sentFilesReader([...files, ...assets]);
    const root = commonRoot([...files, ...assets].map((f) => f.name));
    const budget = newBudget();
    for (const f of files) {
      try {
        parsed.push({ name: f.name, file: await readCatalogFile(f.content, f.name, { reader, root, budget }) });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const issue of err.issues) errors.push({ field: issue.path || f.name, message: issue.message });
      }
    }
    if (errors.length) {
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      throw new ProblemError(400, `nothing imported: ${errors[0].field}: ${errors[0].message}${more}`, { field: errors[0].field, errors });
    }

    // 2. Check each document as the catalog would store it; the second definition of an entity is refused.
    const refused: DocumentRefusal[] = parsed.flatMap((p) => p.file.refused);
    const planned: Array<{ file: string; document: number; raw: Record<string, unknown>; entity: Entity; unresolved: ParsedCatalogFile['entities'][number]['unresolved'] }> = [];
    const seen = new Map<string, string>();
    for (const doc of parsed.flatMap((p) => p.file.entities)) {
      const raw = decorateEntity(keepClaims(doc.raw, deps.catalog.index.entity(refOfDocument(doc.raw) ?? ''), principal), doc.file, {}, doc.unresolved);
      try {
        const entity = deps.catalog.validate(raw, sourceOf(doc.file));
        const key = entityRefOf(entity);
        const other = seen.get(key);
        if (other) { refused.push(refusal(doc.file, doc.document, [{ path: 'metadata.name', message: `${key} is defined twice (first in ${other})` }], key)); continue; }
        seen.set(key, `${doc.file}[document ${doc.document}]`);
        planned.push({ file: doc.file, document: doc.document, raw, entity, unresolved: doc.unresolved });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        refused.push(refusal(doc.file, doc.document, err.issues, refOfDocument(raw)));
      }
    }

    // 3. Authorise everything: the principal must be able to write each entity as it is and as it will be.
    // The ETag each entity was authorised at (null: it did not exist) is the condition of its write.
    const authorised: Array<string | null> = [];
    for (const p of planned) {
      const key = entityRefOf(p.entity);
      let existing = await deps.catalog.get(key);
      // An entry without an ETag cannot pin the write: authorise against the stored row instead.
      if (existing && !existing.metadata.etag) existing = await deps.catalog.get(key, { consistent: true });
      // The same rules as every other write path (write-rules.ts); one refusal stops the request.
      const where = `${p.file}[document ${p.document}]`;
      try {
        authoriseWrite({
          principal, me, existing, candidate: p.entity, where,
          existingDeclared: existing ? deps.catalog.index.getIndexed(key)?.declared ?? [] : undefined,
          lookup: (k) => deps.catalog.index.entity(k),
        });
      } catch (err) {
        if (err instanceof ProblemError) throw new ProblemError(err.status, `nothing imported: ${err.message}`, err.extra);
        throw err;
      }
      authorised.push(existing ? existing.metadata.etag ?? '' : null);
    }

    // 4. Store: one Table transaction per partition, each row only if it is still the version
    // authorised above, so no entity is half-written. A failure part-way says exactly what was stored and what not.
    let stored: Entity[];
    try {
      stored = await deps.catalog.writeAll(planned.map((p, i) => ({ input: p.raw, source: sourceOf(p.file), etag: authorised[i]! })));
    } catch (err) {
      if (!(err instanceof PartialWriteError)) throw err;
      // Another instance wrote those entities: catch up with it, so importing again works at once.
      if (err.conflict) await deps.catalog.refresh().catch(() => 0);
      const fileOf = new Map(planned.map((p) => [entityRefOf(p.entity), p.file]));
      const list = (keys: string[]) => keys.map((ref) => ({ ref, file: fileOf.get(ref)! }));
      throw new ProblemError(err.conflict ? 409 : 503, `import stopped part-way: ${err.message}; nothing orphaned${err.conflict ? '; import again to retry' : ''}`, {
        written: list(err.written), notWritten: list(err.notWritten), refused,
      });
    }
    await repointToLibraries(deps, stored);
    const imported = stored.map((e, i) => ({ ref: entityRefOf(e), file: planned[i]!.file, document: planned[i]!.document }));
    const unresolved = planned.flatMap((p) => p.unresolved.map((u) => ({ ref: entityRefOf(p.entity), file: p.file, document: p.document, ...u })));

    // 5. Orphan, per file, what it listed before and no longer does (only what the importer may write).
    // A refused document counts as listed; one that names no entity could be any of them: nothing is orphaned then.
    const orphaned: string[] = [];
    const orphaningSkipped: string[] = [];
    for (const f of parsed) {
      const refusedHere = refused.filter((r) => r.file === f.name);
      if (refusedHere.some((r) => !r.ref)) { orphaningSkipped.push(f.name); continue; }
      const listed = [...planned.filter((p) => p.file === f.name).map((p) => entityRefOf(p.entity)), ...refusedHere.map((r) => r.ref!)];
      orphaned.push(...(await deps.catalog.markMissing(sourceOf(f.name), listed, { only: mayWrite })));
    }
    // Location targets are relative to the file that names them; those sent along were read above.
    const names = new Set(files.map((f) => (isUrl(f.name) ? f.name : posix.normalize(f.name))));
    const locations = parsed.flatMap((f) => f.file.locations.flatMap((l) => l.targets.map((t) => targetOf(t, f.name)))).filter((t) => !names.has(t));
    return c.json({ imported, refused, unresolved, orphaned, orphaningSkipped, locations }, 200);
  });
  return app;
}

/**
 * `component:x` means a Service, or the Package a Backstage library Component became. Entities of one
 * request are checked before any is stored, so a reference to a library imported alongside still
 * names the Service: now that the Package is stored, such entities are re-resolved (as upsert does).
 */
async function repointToLibraries(deps: ApiDeps, stored: Entity[]): Promise<void> {
  const libraries = new Set(stored.filter((e) => e.kind === 'Package').map((e) => `service:${entityRefOf(e).slice('package:'.length)}`));
  if (!libraries.size) return;
  const { index } = deps.catalog;
  const origins = index.keysWhere((i) => i.declared.some((d) => libraries.has(d.target) && !index.has(d.target)));
  for (const key of origins) await deps.catalog.update(key, (cur) => cur);
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** A Location target as a name among the files sent: a URL, or a path relative to the file naming it. */
function targetOf(target: string, from: string): string {
  const t = target.replace(/^(url|file):/, '');
  if (isUrl(t)) return t;
  if (isUrl(from)) {
    // A target no URL can be made of is kept as written: it is reported, not followed.
    try { return new URL(t, from).toString(); } catch { return t; }
  }
  return posix.normalize(t.startsWith('/') ? t : posix.join(posix.dirname(from), t));
}

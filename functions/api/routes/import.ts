// POST /api/v1/import: catalog-info files (Backstage or nexus/v1 YAML, several documents each) in
// one request, as `nexus catalog import` sends them. All or nothing: every document of every file
// is parsed, validated (the catalog's full check, references included) and authorised before the
// first write. Each file of each importer is its own source, so an entity a file stops listing
// becomes orphaned (if the importer may write it).
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp } from '../app.ts';
import { requireRole, rightsFor } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ProblemError, type FieldError } from '../problem.ts';
import { apiSource } from './catalog.ts';
import { authoriseWrite, keepClaims, ownerOf } from '../write-rules.ts';
import { decorateEntity, parseCatalogFile, type ParsedCatalogFile } from '../../catalog/ingestion/catalog-file.ts';
import { PartialWriteError } from '../../catalog/service.ts';
import { ValidationError, type Entity, type SourceInfo } from '../../catalog/kinds.ts';
import { entityRefOf, normalizeRef } from '../../catalog/refs.ts';

const ImportBody = z.object({
  files: z
    .array(z.object({
      name: z.string().min(1).max(1000).openapi({ description: 'where the file came from (path or URL): named in errors, and the source scope' }),
      content: z.string().max(5_000_000),
    }))
    .min(1, 'at least one file')
    .max(500),
}).openapi('ImportRequest');

const ImportResult = z.object({
  imported: z.array(z.object({ ref: z.string(), file: z.string() })),
  orphaned: z.array(z.string()),
  locations: z.array(z.string()).openapi({ description: 'Location targets that were not among the files sent' }),
}).openapi('ImportResult');

const importRoute = createRoute({
  method: 'post', path: '/api/v1/import', tags: ['catalog'], summary: 'Import catalog-info files (all or nothing)',
  middleware: [requireRole('PlatformEngineer', 'TeamLead')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: ImportBody } } } },
  responses: {
    200: { description: 'imported', content: { 'application/json': { schema: ImportResult } } },
    400: { description: 'a document is invalid; nothing was stored' },
    403: { description: 'a document is not yours to write; nothing was stored' },
    409: { description: 'entities changed while importing: the problem lists what was written and what not' },
    503: { description: 'storage failed part-way: the problem lists what was written and what not' },
  },
});

export function register(app: ApiApp, deps: ApiDeps): void {
  app.openapi(importRoute, async (c) => {
    const { files } = c.req.valid('json');
    const principal = c.get('principal');
    // A file name is only unique per importer (everyone has a catalog-info.yaml): the source scope
    // is the importer's User (or subject) plus the name, so one team's import never orphans another's.
    const me = deps.catalog.identify(principal);
    const importer = me.user ?? `subject:${principal.id}`;
    const sourceOf = (file: string): SourceInfo => apiSource(deps, principal, 'catalog-file', `${importer}|${file}`);
    const mayWrite = (e: Entity) => rightsFor(principal, ownerOf(e), me).write;

    // 1. Parse and validate everything.
    const errors: FieldError[] = [];
    const parsed: Array<{ name: string; file: ParsedCatalogFile }> = [];
    const planned: Array<{ file: string; raw: Record<string, unknown>; entity: Entity }> = [];
    for (const f of files) {
      try {
        const file = parseCatalogFile(f.content, f.name);
        parsed.push({ name: f.name, file });
        file.entities.forEach((doc, i) => {
          const raw = decorateEntity(keepClaims(doc, deps.catalog.index.entity(entityKeyOf(doc)), principal), f.name);
          try {
            planned.push({ file: f.name, raw, entity: deps.catalog.validate(raw, sourceOf(f.name)) });
          } catch (err) {
            if (!(err instanceof ValidationError)) throw err;
            for (const issue of err.issues) errors.push({ field: `${f.name}[entity ${i + 1}].${issue.path || '(root)'}`, message: issue.message });
          }
        });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const issue of err.issues) errors.push({ field: issue.path || f.name, message: issue.message });
      }
    }
    const seen = new Map<string, string>();
    for (const p of planned) {
      const key = entityRefOf(p.entity);
      const other = seen.get(key);
      if (other) errors.push({ field: p.file, message: `${key} is defined twice (also in ${other})` });
      seen.set(key, p.file);
    }
    if (errors.length) {
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      throw new ProblemError(400, `nothing imported: ${errors[0].field}: ${errors[0].message}${more}`, { field: errors[0].field, errors });
    }

    // 2. Authorise everything: the principal must be able to write each entity as it is and as it will be.
    // The ETag each entity was authorised at (null: it did not exist) is the condition of its write.
    const authorised: Array<string | null> = [];
    for (const p of planned) {
      const key = entityRefOf(p.entity);
      let existing = await deps.catalog.get(key);
      // An entry without an ETag cannot pin the write: authorise against the stored row instead.
      if (existing && !existing.metadata.etag) existing = await deps.catalog.get(key, { consistent: true });
      try {
        authoriseWrite({
          principal, me, existing, candidate: p.entity, where: p.file,
          existingDeclared: existing ? deps.catalog.index.getIndexed(key)?.declared ?? [] : undefined,
          lookup: (k) => deps.catalog.index.entity(k),
        });
      } catch (err) {
        if (err instanceof ProblemError) throw new ProblemError(err.status, `nothing imported: ${err.message} (from ${p.file})`, err.extra);
        throw err;
      }
      authorised.push(existing ? existing.metadata.etag ?? '' : null);
    }

    // 3. Store: one Table transaction per partition, each row only if it is still the version
    // authorised above. A failure part-way says exactly what was stored and what not.
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
        written: list(err.written), notWritten: list(err.notWritten),
      });
    }
    const imported = stored.map((e, i) => ({ ref: entityRefOf(e), file: planned[i]!.file }));
    // 4. Orphan, per file, what it listed before and no longer does (only what the importer may write).
    const orphaned: string[] = [];
    for (const f of parsed) {
      const listed = planned.filter((p) => p.file === f.name).map((p) => entityRefOf(p.entity));
      orphaned.push(...(await deps.catalog.markMissing(sourceOf(f.name), listed, { only: mayWrite })));
    }
    const names = new Set(files.map((f) => f.name));
    const locations = parsed.flatMap((f) => f.file.locations.flatMap((l) => l.targets)).filter((t) => !names.has(t));
    return c.json({ imported, orphaned, locations }, 200);
  });
}

/** The catalog key a raw document names, when it names one (else undefined: validation reports it). */
function entityKeyOf(doc: Record<string, unknown>): string {
  const m = doc.metadata as { name?: unknown; namespace?: unknown } | undefined;
  try {
    return normalizeRef(`${String(doc.kind)}:${typeof m?.namespace === 'string' ? m.namespace : 'default'}/${String(m?.name)}`);
  } catch {
    return '';
  }
}

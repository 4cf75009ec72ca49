// Imports catalog-info.yaml files: several YAML documents per file, Backstage or nexus/v1, and
// Location documents that point at more files. Every document of a file is validated before the
// first one is stored, so a bad file stores nothing; entities the file no longer lists are orphaned.
import { parseAllDocuments } from 'yaml';
import { fromBackstage, isBackstage, type LocationDoc } from '../backstage.ts';
import { ValidationError, type Entity, type Issue, type SourceInfo } from '../kinds.ts';
import { entityRefOf } from '../refs.ts';
import type { CatalogService } from '../service.ts';

export interface ParsedCatalogFile {
  entities: Array<Record<string, unknown>>;
  locations: LocationDoc[];
}

/** Parses every document of a file; any YAML or schema error names the file, the document and the field. */
export function parseCatalogFile(text: string, fileName: string): ParsedCatalogFile {
  const issues: Issue[] = [];
  const entities: Array<Record<string, unknown>> = [];
  const locations: LocationDoc[] = [];
  const docs = parseAllDocuments(text);
  docs.forEach((doc, i) => {
    const where = `${fileName}[document ${i + 1}]`;
    if (doc.errors.length) {
      for (const e of doc.errors) issues.push({ path: where, message: `YAML: ${e.message.split('\n')[0]}` });
      return;
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
    if (typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: where, message: 'a document must be a mapping with apiVersion, kind, metadata and spec' });
      return;
    }
    try {
      if (isBackstage(value)) {
        const mapped = fromBackstage(value);
        if ('location' in mapped) locations.push(mapped.location);
        else entities.push(mapped.entity as unknown as Record<string, unknown>);
      } else {
        entities.push(value as Record<string, unknown>);
      }
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const issue of err.issues) issues.push({ path: `${where}.${issue.path}`, message: issue.message });
    }
  });
  if (issues.length) throw new ValidationError(issues, fileName);
  return { entities, locations };
}

export interface ImportOptions {
  /** Shown in errors and stored as the entity's location. */
  fileName: string;
  source: SourceInfo;
  /** Reads a Location target (relative to this file); without it Location documents are reported, not followed. */
  read?: (target: string, from: string) => Promise<string>;
  /** Extra annotations for every entity (e.g. the repository the file lives in). */
  annotations?: Record<string, string>;
  /** Extra spec fields for every entity that has none of its own (e.g. spec.repository). */
  specDefaults?: Record<string, unknown>;
  /** Orphan entities this source listed before and no longer does (default true). */
  orphanMissing?: boolean;
  /** Of the entities this source no longer lists, only those this says yes to are orphaned (e.g. the importer may write them). */
  mayOrphan?: (e: Entity) => boolean;
  /**
   * Backstage's location-key rule for ingestion: given an entity that already exists, the sources
   * that hold it and this file may not take over (none: it may). An entity held elsewhere is left
   * as it is and reported as a conflict; the rest of the file is imported.
   */
  heldElsewhere?: (existing: Entity) => string[];
  /**
   * Why this source may not write an entity at all (e.g. a Team or User from a repository that is
   * not a trusted catalog source), or undefined. A refused entity is reported, not written and not
   * orphaned; the rest of the file is imported.
   */
  refuse?: (entity: Entity) => string | undefined;
}

/** An entity the file defines that this source may not write: not written. */
export interface ImportRefusal {
  ref: string;
  file: string;
  reason: string;
}

/** An entity the file defines that another source holds: not written. */
export interface ImportConflict {
  ref: string;
  file: string;
  heldBy: string[];
}

export interface ImportResult {
  entities: Entity[];
  /** Location targets that were not followed (no reader given). */
  locations: string[];
  orphaned: string[];
  conflicts: ImportConflict[];
  refused: ImportRefusal[];
}

/** Validates all documents (following Locations), then stores them. */
export async function importCatalogFile(catalog: CatalogService, text: string, opts: ImportOptions): Promise<ImportResult> {
  const files: Array<{ fileName: string; parsed: ParsedCatalogFile }> = [];
  const pending: string[] = [];
  const seenFiles = new Set<string>();
  const visit = async (fileName: string, content: string, depth: number) => {
    if (seenFiles.has(fileName)) return;
    seenFiles.add(fileName);
    const parsed = parseCatalogFile(content, fileName);
    files.push({ fileName, parsed });
    for (const loc of parsed.locations) {
      for (const target of loc.targets) {
        if (!opts.read || depth >= 5) { pending.push(target); continue; }
        await visit(target, await opts.read(target, fileName), depth + 1);
      }
    }
  };
  await visit(opts.fileName, text, 0);

  const prepared: Array<{ fileName: string; entity: Record<string, unknown> }> = [];
  const issues: Issue[] = [];
  for (const { fileName, parsed } of files) {
    parsed.entities.forEach((raw, i) => {
      const entity = decorateEntity(raw, fileName, opts);
      try {
        catalog.validate(entity, opts.source);
        prepared.push({ fileName, entity });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const issue of err.issues) issues.push({ path: `${fileName}[entity ${i + 1}].${issue.path}`, message: issue.message });
      }
    });
  }
  if (issues.length) throw new ValidationError(issues, opts.fileName);

  const stored: Entity[] = [];
  const conflicts: ImportConflict[] = [];
  const refused: ImportRefusal[] = [];
  for (const { fileName, entity } of prepared) {
    const checked = catalog.validate(entity, opts.source);
    const ref = entityRefOf(checked);
    const reason = opts.refuse?.(checked);
    if (reason) { refused.push({ ref, file: fileName, reason }); continue; }
    if (opts.heldElsewhere) {
      const existing = await catalog.get(ref);
      const heldBy = existing ? opts.heldElsewhere(existing) : [];
      if (heldBy.length) { conflicts.push({ ref, file: fileName, heldBy }); continue; }
    }
    stored.push(await catalog.upsert(entity, opts.source));
  }
  // Entities held elsewhere count as seen: this source never had them, so nothing to orphan.
  // Refused entities count as seen too: what this source wrote before is kept, not orphaned.
  const seen = [...stored.map(entityRefOf), ...refused.map((r) => r.ref)];
  const orphaned = opts.orphanMissing === false ? [] : await catalog.markMissing(opts.source, seen, { only: opts.mayOrphan });
  return { entities: stored, locations: pending, orphaned, conflicts, refused };
}

const SPEC_DEFAULT_KINDS = new Set(['Service', 'API', 'Package', 'Pipeline']);

/** The entity as a catalog file stores it: where it came from in its annotations, repository defaults in its spec. */
export function decorateEntity(raw: Record<string, unknown>, fileName: string, opts: Pick<ImportOptions, 'annotations' | 'specDefaults'> = {}): Record<string, unknown> {
  const metadata = (raw.metadata ?? {}) as Record<string, unknown>;
  // Where the file lives is the importer's to say, not the file's (as in Backstage): a file cannot
  // claim another repository's slug (deployments are matched by it) or another location.
  const annotations = {
    ...(metadata.annotations as Record<string, string> | undefined),
    'backstage.io/managed-by-location': `file:${fileName}`,
    'nexus.io/source-path': fileName,
    ...opts.annotations,
  };
  // Repository defaults make sense for things built from code, not for teams or users.
  const defaults = SPEC_DEFAULT_KINDS.has(String(raw.kind)) ? opts.specDefaults : undefined;
  const spec = { ...defaults, ...((raw.spec ?? {}) as Record<string, unknown>) };
  return { ...raw, metadata: { ...metadata, annotations }, spec };
}

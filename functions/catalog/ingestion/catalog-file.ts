// Imports catalog-info.yaml files: several YAML documents per file, Backstage or nexus/v1, with
// Backstage's placeholders ($text, $json, $yaml), and Location documents that point at more files.
// Each document stands on its own: a bad one is refused and reported (file, document, field) and the
// others are imported. Entities the file no longer lists are orphaned, unless a refused document of
// the file cannot be told apart (then nothing is orphaned: it might be one of them).
import { posix } from 'node:path';
import { ValidationError, type Entity, type SourceInfo } from '../kinds.ts';
import { entityRefOf } from '../refs.ts';
import type { CatalogService } from '../service.ts';
import { readCatalogFile, refusal, unresolvedAnnotation, UNRESOLVED_ANNOTATION, type CatalogDocument, type DocumentRefusal, type ParsedCatalogFile } from './catalog-docs.ts';
import { newBudget, type ContentReader, type UnresolvedPlaceholder } from './placeholders.ts';

export { readCatalogFile, type ParsedCatalogFile, type DocumentRefusal } from './catalog-docs.ts';

export interface ImportOptions {
  /** Shown in errors and stored as the entity's location. */
  fileName: string;
  source: SourceInfo;
  /** Reads a Location target (relative to this file); without it Location documents are reported, not followed. */
  read?: (target: string, from: string) => Promise<string>;
  /** Reads what placeholders point at; without it they are recorded as unresolved. */
  content?: ContentReader;
  /** The directory placeholders may read from (posix); default the directory of `fileName`. */
  root?: string;
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

/**
 * An entity the file defines that is not written: this source may not write it, or its document
 * is invalid (then `document` and `errors` say where; `ref` only when the document names it).
 */
export interface ImportRefusal {
  ref?: string;
  file: string;
  document?: number;
  reason: string;
  errors?: Array<{ field: string; message: string }>;
}

/** An entity the file defines that another source holds: not written. */
export interface ImportConflict {
  ref: string;
  file: string;
  heldBy: string[];
}

/** A placeholder of a stored entity that could not be resolved: the field was left empty. */
export interface ImportUnresolved extends UnresolvedPlaceholder {
  ref: string;
  file: string;
  document: number;
}

export interface ImportResult {
  entities: Entity[];
  /** Location targets that were not followed (no reader given). */
  locations: string[];
  orphaned: string[];
  /** Why nothing was orphaned, when a refused document could not be told apart. */
  orphaningSkipped?: string;
  conflicts: ImportConflict[];
  refused: ImportRefusal[];
  unresolved: ImportUnresolved[];
}

/** Reads all documents (following Locations), checks each, then stores the valid ones. */
export async function importCatalogFile(catalog: CatalogService, text: string, opts: ImportOptions): Promise<ImportResult> {
  const files: ParsedCatalogFile[] = [];
  const pending: string[] = [];
  const seenFiles = new Set<string>();
  const budget = newBudget();
  const root = opts.root ?? opts.fileName.replace(/\/?[^/]*$/, '');
  const visit = async (fileName: string, content: string, depth: number) => {
    if (seenFiles.has(fileName)) return;
    seenFiles.add(fileName);
    const parsed = await readCatalogFile(content, fileName, { reader: opts.content, root, budget });
    files.push(parsed);
    for (const loc of parsed.locations) {
      for (const target of loc.targets) {
        if (!opts.read || depth >= 5) { pending.push(target); continue; }
        // Named by where it is (relative to this file), so its own placeholders and Locations resolve from there.
        await visit(locationName(target, fileName), await opts.read(target, fileName), depth + 1);
      }
    }
  };
  await visit(opts.fileName, text, 0);

  const refused: ImportRefusal[] = files.flatMap((f) => f.refused);
  const prepared: Array<{ doc: CatalogDocument; entity: Record<string, unknown>; ref: string }> = [];
  const where = new Map<string, string>();
  for (const doc of files.flatMap((f) => f.entities)) {
    const entity = decorateEntity(doc.raw, doc.file, opts, doc.unresolved);
    try {
      const ref = entityRefOf(catalog.validate(entity, opts.source));
      const first = where.get(ref);
      if (first) { refused.push(refusal(doc.file, doc.document, [{ path: 'metadata.name', message: `${ref} is defined twice (first in ${first})` }], ref)); continue; }
      where.set(ref, `${doc.file}[document ${doc.document}]`);
      prepared.push({ doc, entity, ref });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      refused.push(refusal(doc.file, doc.document, err.issues, refOfEntity(entity)));
    }
  }

  const stored: Entity[] = [];
  const conflicts: ImportConflict[] = [];
  const unresolved: ImportUnresolved[] = [];
  for (const { doc, entity, ref } of prepared) {
    const checked = catalog.validate(entity, opts.source);
    const reason = opts.refuse?.(checked);
    if (reason) { refused.push({ ref, file: doc.file, document: doc.document, reason }); continue; }
    if (opts.heldElsewhere) {
      const existing = await catalog.get(ref);
      const heldBy = existing ? opts.heldElsewhere(existing) : [];
      if (heldBy.length) { conflicts.push({ ref, file: doc.file, heldBy }); continue; }
    }
    stored.push(await catalog.upsert(entity, opts.source));
    for (const u of doc.unresolved) unresolved.push({ ref, file: doc.file, document: doc.document, ...u });
  }
  // Entities held elsewhere count as seen: this source never had them, so nothing to orphan.
  // Refused entities count as seen too: what this source wrote before is kept, not orphaned.
  const blind = refused.find((r) => !r.ref);
  if (blind) {
    const orphaningSkipped = `nothing orphaned: ${blind.file}[document ${blind.document}] was refused and does not say which entity it is`;
    return { entities: stored, locations: pending, orphaned: [], orphaningSkipped, conflicts, refused, unresolved };
  }
  const seen = [...stored.map(entityRefOf), ...refused.map((r) => r.ref!)];
  const orphaned = opts.orphanMissing === false ? [] : await catalog.markMissing(opts.source, seen, { only: opts.mayOrphan });
  return { entities: stored, locations: pending, orphaned, conflicts, refused, unresolved };
}

/** A Location target as a file name: a URL, or a path relative to the file that names it. */
function locationName(target: string, from: string): string {
  const t = target.replace(/^(url|file):/, '');
  if (/^https?:\/\//i.test(t)) return t;
  if (/^https?:\/\//i.test(from)) {
    // A target no URL can be made of is kept as written (its read fails and says so).
    try { return new URL(t, from).toString(); } catch { return t; }
  }
  return posix.normalize(t.startsWith('/') ? t : posix.join(posix.dirname(from), t));
}

/** The reference of an entity input that failed the catalog's checks, if its envelope says it. */
function refOfEntity(entity: Record<string, unknown>): string | undefined {
  try {
    const meta = entity.metadata as { name?: unknown; namespace?: unknown } | undefined;
    if (typeof entity.kind !== 'string' || typeof meta?.name !== 'string') return undefined;
    return entityRefOf({ kind: entity.kind, metadata: { name: meta.name, namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined } });
  } catch {
    return undefined;
  }
}

const SPEC_DEFAULT_KINDS: ReadonlySet<string> = new Set(['Service', 'API', 'Package', 'Pipeline']);

/** The entity as a catalog file stores it: where it came from in its annotations, repository defaults in its spec. */
export function decorateEntity(raw: Record<string, unknown>, fileName: string, opts: Pick<ImportOptions, 'annotations' | 'specDefaults'> = {}, unresolved: UnresolvedPlaceholder[] = []): Record<string, unknown> {
  const metadata = (raw.metadata ?? {}) as Record<string, unknown>;
  // Where the file lives is the importer's to say, not the file's (as in Backstage): a file cannot
  // claim another repository's slug (deployments are matched by it) or another location; nor can
  // it claim (or hide) unresolved placeholders.
  const own = { ...(metadata.annotations as Record<string, string> | undefined) };
  delete own[UNRESOLVED_ANNOTATION];
  const annotations = {
    ...own,
    'backstage.io/managed-by-location': `file:${fileName}`,
    'nexus.io/source-path': fileName,
    ...unresolvedAnnotation(unresolved),
    ...opts.annotations,
  };
  // Repository defaults make sense for things built from code, not for teams or users.
  const defaults = SPEC_DEFAULT_KINDS.has(String(raw.kind)) ? opts.specDefaults : undefined;
  const spec = { ...defaults, ...((raw.spec ?? {}) as Record<string, unknown>) };
  return { ...raw, metadata: { ...metadata, annotations }, spec };
}

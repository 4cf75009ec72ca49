// One catalog file, document by document, as Backstage reads it: YAML within limits, placeholders
// resolved, Backstage documents mapped onto Nexus kinds, Location documents collected. A document
// that is not a valid entity is refused on its own (file, document, field) and the others go on;
// only YAML that cannot be read safely fails the whole file.
import { fromBackstage, isBackstage, type LocationDoc } from '../backstage.ts';
import { ValidationError, type Issue } from '../kinds.ts';
import { refKey, NAME_RE, NAMESPACE_RE } from '../refs.ts';
import { readYamlDocuments } from './yaml-docs.ts';
import { newBudget, resolvePlaceholders, type ContentReader, type PlaceholderBudget, type UnresolvedPlaceholder } from './placeholders.ts';

export const UNRESOLVED_ANNOTATION = 'nexus.io/unresolved-placeholders';

export interface CatalogDocument {
  file: string;
  /** 1-based index of the YAML document in its file. */
  document: number;
  /** The entity (a nexus/v1 envelope, or mapped from Backstage), not yet checked by the catalog. */
  raw: Record<string, unknown>;
  unresolved: UnresolvedPlaceholder[];
}

/** A document that is not imported, and why (each error names the field within the document). */
export interface DocumentRefusal {
  file: string;
  document: number;
  /** The entity it would have been, when the document says enough to tell. */
  ref?: string;
  reason: string;
  errors: Array<{ field: string; message: string }>;
}

export interface ParsedCatalogFile {
  entities: CatalogDocument[];
  locations: LocationDoc[];
  refused: DocumentRefusal[];
}

export interface ReadOptions {
  /** Reads what placeholders point at; without it they are recorded as unresolved. */
  reader?: ContentReader;
  /** The directory placeholders may read from (posix); default the file's own directory. */
  root?: string;
  budget?: PlaceholderBudget;
}

/** Backstage kinds stored under another Nexus kind (a library Component is a Package). */
function nexusKindOf(kind: string, spec: unknown): string {
  if (kind === 'Component') return (spec as { type?: unknown } | undefined)?.type === 'library' ? 'package' : 'service';
  if (kind === 'Group') return 'team';
  if (kind === 'Resource') return 'azureresource';
  return kind.toLowerCase();
}

/** The reference a refused document would have had, if its kind, namespace and name are usable. */
export function refOfDocument(value: Record<string, unknown>): string | undefined {
  const meta = value.metadata as { name?: unknown; namespace?: unknown } | undefined;
  const name = meta?.name, namespace = meta?.namespace ?? 'default';
  if (typeof value.kind !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(value.kind) || value.kind === 'Location') return undefined;
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > 63) return undefined;
  if (typeof namespace !== 'string' || !NAMESPACE_RE.test(namespace)) return undefined;
  return refKey({ kind: nexusKindOf(value.kind, value.spec), namespace, name });
}

export function refusal(file: string, document: number, issues: Issue[], ref?: string): DocumentRefusal {
  const errors = issues.map((i) => ({ field: i.path || '(root)', message: i.message }));
  return { file, document, ...(ref ? { ref } : {}), reason: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors };
}

/**
 * Reads every document of a file. YAML errors (syntax, too many aliases, too deep or too large)
 * throw a ValidationError naming `<file>[document n]`: such a file is not read at all.
 */
export async function readCatalogFile(text: string, fileName: string, opts: ReadOptions = {}): Promise<ParsedCatalogFile> {
  const { docs, issues } = readYamlDocuments(text, fileName);
  if (issues.length) throw new ValidationError(issues, fileName);
  const out: ParsedCatalogFile = { entities: [], locations: [], refused: [] };
  const budget = opts.budget ?? newBudget();
  const root = opts.root ?? fileName.replace(/\/?[^/]*$/, '');
  for (const { index, value: doc } of docs) {
    if (doc === null || doc === undefined) continue; // an empty document (e.g. a trailing ---)
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      out.refused.push(refusal(fileName, index, [{ path: '', message: 'a document must be a mapping with apiVersion, kind, metadata and spec' }]));
      continue;
    }
    const { value, unresolved } = await resolvePlaceholders(doc, { fileName, root, reader: opts.reader, budget });
    const resolved = value as Record<string, unknown>;
    try {
      if (isBackstage(resolved)) {
        const mapped = fromBackstage(resolved);
        if ('location' in mapped) { out.locations.push(mapped.location); continue; }
        out.entities.push({ file: fileName, document: index, raw: mapped.entity as unknown as Record<string, unknown>, unresolved });
      } else {
        out.entities.push({ file: fileName, document: index, raw: resolved, unresolved });
      }
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      out.refused.push(refusal(fileName, index, err.issues, refOfDocument(resolved)));
    }
  }
  return out;
}

/** Placeholders left unresolved, as an annotation on the entity: `field: $kind target: reason` per line. */
export function unresolvedAnnotation(list: UnresolvedPlaceholder[]): Record<string, string> {
  if (!list.length) return {};
  return { [UNRESOLVED_ANNOTATION]: list.map((u) => `${u.field}: ${u.placeholder} ${u.target}: ${u.reason}`).join('\n') };
}

// The landing-zone repository's Nexus archetypes and architecture as the drift pull request edits
// them: each YAML file read with the `yaml` package's Document API (so comments and layout survive
// an edit), and where a management group's assignment can be changed: the outermost override of
// it on the inheritance path from the group's archetype, else its own declaration, else a new
// override on the group's archetype. Bounded: files, sizes and depth.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';

const MAX_FILES = 2000;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_DEPTH = 8;

export interface ArchetypeFile {
  name: string;
  /** Repository-relative, `/`-separated. */
  path: string;
  /** The file as read (an edit that changes nothing is no edit). */
  text: string;
  doc: Document;
}

export interface RepoArchetypes {
  archetypes: Map<string, ArchetypeFile>;
  /** Management group id (lower case) → its archetypes, from the architecture file(s). */
  groups: Map<string, string[]>;
}

function yamlFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && /\.ya?ml$/i.test(e.name) && out.length < MAX_FILES) out.push(p);
    }
  };
  walk(root, 0);
  return out;
}

/** Reads every Nexus `kind: Archetype` and `kind: Architecture` document under `dir` (others are skipped). */
export function readRepoArchetypes(dir: string): RepoArchetypes {
  const archetypes = new Map<string, ArchetypeFile>();
  const groups = new Map<string, string[]>();
  for (const file of yamlFiles(dir)) {
    if (statSync(file).size > MAX_FILE_BYTES) continue;
    const text = readFileSync(file, 'utf8');
    const doc = parseDocument(text, { keepSourceTokens: false });
    if (doc.errors.length > 0) continue;
    const kind = doc.get('kind');
    const path = relative(dir, file).split(sep).join('/');
    if (kind === 'Archetype') {
      const name = doc.getIn(['metadata', 'name']);
      if (typeof name === 'string' && !archetypes.has(name)) archetypes.set(name, { name, path, text, doc });
    } else if (kind === 'Architecture') {
      const mgs = doc.getIn(['spec', 'managementGroups']);
      if (!isSeq(mgs)) continue;
      for (const g of mgs.items) {
        if (!isMap(g)) continue;
        const id = g.get('id');
        const list = g.get('archetypes');
        if (typeof id !== 'string' || !isSeq(list)) continue;
        groups.set(id.toLowerCase(), list.items.map((i) => (isScalar(i) ? String(i.value) : '')).filter(Boolean));
      }
    }
  }
  return { archetypes, groups };
}

/** One inheritance step: `from`'s spec.inherits[index] names `to`. */
export interface Edge { from: ArchetypeFile; index: number; to: string }

function inheritsOf(a: ArchetypeFile): string[] {
  const list = a.doc.getIn(['spec', 'inherits']);
  if (!isSeq(list)) return [];
  return list.items.map((i) => (isScalar(i) ? String(i.value) : isMap(i) && typeof i.get('name') === 'string' ? String(i.get('name')) : ''));
}

/** The inheritance path from `root` to `target` (outermost edge first); [] when root is target; undefined when none. */
export function pathTo(repo: RepoArchetypes, root: string, target: string, seen = new Set<string>()): Edge[] | undefined {
  if (root === target) return [];
  const a = repo.archetypes.get(root);
  if (!a || seen.has(root)) return undefined;
  seen.add(root);
  const names = inheritsOf(a);
  for (let i = 0; i < names.length; i++) {
    if (!names[i]) continue;
    const rest = pathTo(repo, names[i], target, seen);
    if (rest) return [{ from: a, index: i, to: names[i] }, ...rest];
  }
  return undefined;
}

/** What the edit changes in an assignment: one parameter, the enforcement mode, or the messages. */
export type AssignmentField = { parameter: string } | 'enforcementMode' | 'nonComplianceMessages';

export interface EditTarget {
  file: ArchetypeFile;
  /** Path in the document to set. */
  path: (string | number)[];
  /** A readable location, e.g. `spec.inherits[0].overrides.policies.Deny-Subnet-No-Udr.parameters.effect`. */
  where: string;
  /** When the inherits entry at this index is a plain name, it becomes `{ name }` first. */
  expandInherit?: number;
}

function keyIn(doc: Document, at: (string | number)[], key: string): string {
  // ARM parameter names are case-insensitive: keep the spelling the file already uses.
  const m = doc.getIn(at);
  if (isMap(m)) {
    for (const p of m.items) if (isScalar(p.key) && String(p.key.value).toLowerCase() === key.toLowerCase()) return String(p.key.value);
  }
  return key;
}

function fieldPath(doc: Document, at: (string | number)[], f: AssignmentField): (string | number)[] {
  if (typeof f === 'string') return [...at, f];
  return [...at, 'parameters', keyIn(doc, [...at, 'parameters'], f.parameter)];
}

function has(doc: Document, at: (string | number)[], f: AssignmentField): boolean {
  return doc.hasIn(fieldPath(doc, at, f));
}

const show = (p: (string | number)[]) => p.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i ? '.' : ''}${s}`)).join('');

/**
 * Where the live value of `field` of assignment `name` (declared by archetype `declaredIn`) on
 * management group `mg` is written so the compiled assignment equals it; undefined when no Nexus
 * archetype of the repository can express it (an ALZ archetype assigned to the group directly).
 */
export function editTarget(repo: RepoArchetypes, mg: string, name: string, declaredIn: string, field: AssignmentField): EditTarget | undefined {
  const roots = repo.groups.get(mg.toLowerCase()) ?? [declaredIn];
  let path: Edge[] | undefined;
  for (const r of roots) {
    path = pathTo(repo, r, declaredIn);
    if (path) break;
  }
  if (!path) return undefined;
  // Overrides nearer the group apply last, so the outermost one that sets the field decides.
  for (const e of path) {
    const at = ['spec', 'inherits', e.index, 'overrides', 'policies', name];
    if (isMap(e.from.doc.getIn(['spec', 'inherits', e.index])) && has(e.from.doc, at, field)) {
      const p = fieldPath(e.from.doc, at, field);
      return { file: e.from, path: p, where: show(p) };
    }
  }
  if (path.length === 0) {
    const own = repo.archetypes.get(declaredIn);
    if (!own) return undefined;
    const list = own.doc.getIn(['spec', 'policies']);
    const i = isSeq(list) ? list.items.findIndex((p) => isMap(p) && p.get('name') === name) : -1;
    if (i < 0) return undefined;
    const p = fieldPath(own.doc, ['spec', 'policies', i], field);
    return { file: own, path: p, where: show(p) };
  }
  // No override yet: a new one on the group's own archetype changes this group only.
  const first = path[0];
  const p = fieldPath(first.from.doc, ['spec', 'inherits', first.index, 'overrides', 'policies', name], field);
  return { file: first.from, path: p, where: show(p), ...(isScalar(first.from.doc.getIn(['spec', 'inherits', first.index], true)) ? { expandInherit: first.index } : {}) };
}

/** Sets the value at the target, keeping comments; a flow collection on the way becomes block style. */
export function applyEdit(t: EditTarget, value: unknown): void {
  const doc = t.file.doc;
  const inherits = doc.getIn(['spec', 'inherits'], true);
  if (t.expandInherit !== undefined && isSeq(inherits)) {
    const node = inherits.items[t.expandInherit];
    if (isScalar(node)) {
      const map = doc.createNode({ name: String(node.value) });
      map.flow = false;
      if (node.comment) map.comment = node.comment;
      inherits.items[t.expandInherit] = map;
      inherits.flow = false;
    }
  }
  const existing = doc.getIn(t.path, true);
  if (isScalar(existing) && (value === null || typeof value !== 'object')) {
    existing.value = value;
    return;
  }
  const node = doc.createNode(value);
  if (isMap(node) || isSeq(node)) node.flow = false;
  doc.setIn(t.path, node);
}

// Test helper: what Backstage derives from a catalog on disk, written from Backstage's rules and
// independently of Nexus's code (Location following, its required spec fields, parseEntityRef with
// the referencing entity's namespace, the relation fields of each kind and their reverses), with
// Backstage's refs mapped onto Nexus's keys (component: -> service: or package:, group: -> team:,
// resource: -> azureresource:).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, any> };

/** Backstage's parseEntityRef: a ':' after the first '/' belongs to the name. */
function parse(ref: string, defaultKind: string | undefined, defaultNamespace: string): string {
  let colon = ref.indexOf(':');
  const slash = ref.indexOf('/');
  if (slash !== -1 && slash < colon) colon = -1;
  const kind = colon === -1 ? defaultKind : ref.slice(0, colon);
  const namespace = slash === -1 ? defaultNamespace : ref.slice(colon + 1, slash);
  const name = ref.slice(Math.max(colon + 1, slash + 1));
  if (!kind) throw new Error(`no kind in ${ref}`);
  return `${kind}:${namespace}/${name}`.toLowerCase();
}

// [field, relation, reverse, default kind] per kind, as Backstage's processors emit them.
const FIELDS: Record<string, Array<[string, string, string, string | undefined]>> = {
  Component: [['owner', 'ownedBy', 'ownerOf', 'Group'], ['subcomponentOf', 'partOf', 'hasPart', 'Component'], ['providesApis', 'providesApi', 'apiProvidedBy', 'API'],
    ['consumesApis', 'consumesApi', 'apiConsumedBy', 'API'], ['dependsOn', 'dependsOn', 'dependencyOf', undefined], ['dependencyOf', 'dependencyOf', 'dependsOn', undefined], ['system', 'partOf', 'hasPart', 'System']],
  API: [['owner', 'ownedBy', 'ownerOf', 'Group'], ['system', 'partOf', 'hasPart', 'System']],
  Resource: [['owner', 'ownedBy', 'ownerOf', 'Group'], ['dependsOn', 'dependsOn', 'dependencyOf', undefined], ['dependencyOf', 'dependencyOf', 'dependsOn', undefined], ['system', 'partOf', 'hasPart', 'System']],
  System: [['owner', 'ownedBy', 'ownerOf', 'Group'], ['domain', 'partOf', 'hasPart', 'Domain']],
  Domain: [['owner', 'ownedBy', 'ownerOf', 'Group'], ['subdomainOf', 'partOf', 'hasPart', 'Domain']],
  User: [['memberOf', 'memberOf', 'hasMember', 'Group']],
  Group: [['parent', 'childOf', 'parentOf', 'Group'], ['children', 'parentOf', 'childOf', 'Group'], ['members', 'hasMember', 'memberOf', 'User']],
  Template: [['owner', 'ownedBy', 'ownerOf', 'Group']],
  AiResource: [['owner', 'ownedBy', 'ownerOf', 'Group'], ['system', 'partOf', 'hasPart', 'System'], ['dependsOn', 'dependsOn', 'dependencyOf', 'AiResource'],
    ['skills', 'hasSkill', 'skillOf', 'AiResource'], ['plugins', 'hasPlugin', 'pluginOf', 'AiResource']],
  Environment: [],
};

// Backstage's required spec fields (its JSON schemas), enough to tell the fixture's invalid document.
const REQUIRED: Record<string, string[]> = {
  Component: ['type', 'lifecycle', 'owner'], API: ['type', 'lifecycle', 'owner'], Resource: ['type', 'owner'], System: ['owner'], Domain: ['owner'],
  Group: ['type', 'children'], User: [], Template: ['type', 'steps'], AiResource: ['type', 'lifecycle', 'owner'], Environment: [],
};

export interface BackstageCatalog {
  /** Nexus keys of the entities Backstage accepts. */
  entities: string[];
  /** Every relation Backstage derives between them, as `source|type|target` with Nexus keys. */
  relations: string[];
  /** Documents Backstage refuses, as `file[document n]` relative to the catalog's folder. */
  refused: string[];
}

export function backstageCatalog(folder: string, rootFile: string): BackstageCatalog {
  const docs: Doc[] = [];
  const refused: string[] = [];
  const visit = (file: string) => {
    parseAllDocuments(readFileSync(join(folder, file), 'utf8')).forEach((d, i) => {
      const doc = d.toJS() as Doc | null;
      if (!doc) return;
      if (doc.kind === 'Location') {
        for (const t of [doc.spec.target, ...(doc.spec.targets ?? [])].filter(Boolean)) visit(join(dirname(file), t));
        return;
      }
      if ((REQUIRED[doc.kind] ?? []).some((f) => doc.spec?.[f] === undefined)) refused.push(`${file}[document ${i + 1}]`);
      else docs.push(doc);
    });
  };
  visit(rootFile);

  const selfRef = (d: Doc) => `${d.kind}:${d.metadata.namespace ?? 'default'}/${d.metadata.name}`.toLowerCase();
  const libraries = new Set(docs.filter((d) => d.kind === 'Component' && d.spec.type === 'library').map(selfRef));
  const nexusKey = (ref: string) => {
    const [kind, rest] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
    const mapped = kind === 'component' ? (libraries.has(ref) ? 'package' : 'service') : kind === 'group' ? 'team' : kind === 'resource' ? 'azureresource' : kind;
    return `${mapped}:${rest}`;
  };
  const relations = new Set<string>();
  for (const d of docs) {
    const self = selfRef(d);
    for (const [field, type, reverse, defaultKind] of FIELDS[d.kind] ?? []) {
      const value = d.spec[field];
      for (const target of value === undefined ? [] : [value].flat()) {
        const to = parse(String(target), defaultKind, d.metadata.namespace ?? 'default');
        relations.add(`${nexusKey(self)}|${type}|${nexusKey(to)}`);
        relations.add(`${nexusKey(to)}|${reverse}|${nexusKey(self)}`);
      }
    }
  }
  const entities = docs.map((d) => nexusKey(selfRef(d))).sort();
  const known = new Set(entities);
  // Relations are listed on their source entity: those whose source is not in the catalog are not seen.
  return { entities, relations: [...relations].filter((r) => known.has(r.split('|')[0]!)).sort(), refused };
}

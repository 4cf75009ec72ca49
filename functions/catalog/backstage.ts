// Backstage's catalog files, read as Backstage reads them: backstage.io/v1alpha1 (and v1beta1)
// Component, API, Resource, System, Domain, Group, User, Location, Environment and AiResource, and
// scaffolder Templates (scaffolder.backstage.io/v1beta3), mapped onto Nexus kinds in the same envelope.
// A Component of type library is a Package, any other Component a Service; a Group is a Team; a
// Resource an AzureResource. AiResource and Template keep Backstage's kind and spec.
import { z } from 'zod';
import { MetadataSchema, NEXUS_API_VERSION, ValidationError, issuesOf, type EntityInput } from './kinds.ts';

export const BACKSTAGE_API_VERSIONS = ['backstage.io/v1alpha1', 'backstage.io/v1beta1'];
/** Scaffolder templates: the current apiVersion, and the older one Backstage still reads. */
export const TEMPLATE_API_VERSIONS = ['scaffolder.backstage.io/v1beta3', 'backstage.io/v1beta2'];

export function isBackstage(doc: unknown): boolean {
  const v = (doc as { apiVersion?: unknown } | null)?.apiVersion;
  return typeof v === 'string' && (BACKSTAGE_API_VERSIONS.includes(v) || TEMPLATE_API_VERSIONS.includes(v));
}

const str = z.string().min(1);
const strs = z.array(z.string().min(1));
type SpecSchema = z.ZodType<Record<string, unknown>>;

const remotes = z.array(z.looseObject({ type: str, url: str })).min(1, 'must list at least one remote');
/** API spec types whose endpoints are `remotes`, not a `definition` (Backstage's API spec types). */
const REMOTE_API_TYPES: ReadonlySet<string> = new Set(['mcp-server', 'ai-model-server']);
const apiBase = { lifecycle: str, owner: str, system: str.optional() };
const API_WITH_DEFINITION = z.looseObject({ type: str, ...apiBase, definition: z.string() });
const API_WITH_REMOTES = z.looseObject({ type: str, ...apiBase, remotes });

const aiBase = { type: str, lifecycle: str, owner: str, system: str.optional() };
/** Backstage's AiResource spec types with required fields beyond the base ones. */
const AI_RESOURCE_TYPES: ReadonlyMap<string, SpecSchema> = new Map<string, SpecSchema>([
  ['skill', z.looseObject({ ...aiBase, disciplines: strs.optional(), categories: strs.optional(), agents: strs.optional(), dependsOn: strs.optional(), allowedTools: strs.optional(), license: str.optional(), compatibility: str.optional() })],
  ['rule', z.looseObject({ ...aiBase, disciplines: strs.optional(), category: str, rationale: str, activation: z.array(z.looseObject({ harness: str })).min(1).optional() })],
  ['plugin', z.looseObject({ ...aiBase, skills: strs, version: str.optional() })],
  ['marketplace', z.looseObject({ ...aiBase, plugins: strs, version: str.optional() })],
]);
const AI_RESOURCE_DEFAULT = z.looseObject(aiBase);

// Backstage's own required fields per kind (its JSON schemas), so a file Backstage rejects is rejected here.
const BACKSTAGE_SPECS: ReadonlyMap<string, (spec: Record<string, unknown>) => SpecSchema> = new Map<string, (spec: Record<string, unknown>) => SpecSchema>([
  ['Component', () => z.looseObject({ type: str, lifecycle: str, owner: str, system: str.optional(), subcomponentOf: str.optional(), providesApis: strs.optional(), consumesApis: strs.optional(), dependsOn: strs.optional(), dependencyOf: strs.optional() })],
  ['API', (spec) => (REMOTE_API_TYPES.has(String(spec.type)) ? API_WITH_REMOTES : API_WITH_DEFINITION)],
  ['Resource', () => z.looseObject({ type: str, owner: str, dependsOn: strs.optional(), dependencyOf: strs.optional(), system: str.optional() })],
  ['System', () => z.looseObject({ owner: str, domain: str.optional() })],
  ['Domain', () => z.looseObject({ owner: str, subdomainOf: str.optional() })],
  ['Group', () => z.looseObject({ type: str, profile: z.record(z.string(), z.unknown()).optional(), parent: str.optional(), children: strs, members: strs.optional() })],
  ['User', () => z.looseObject({ profile: z.record(z.string(), z.unknown()).optional(), memberOf: strs.optional() })],
  ['Location', () => z.looseObject({ type: str.optional(), target: str.optional(), targets: strs.optional(), presence: z.enum(['required', 'optional']).optional() })],
  // Backstage leaves an Environment's spec open.
  ['Environment', () => z.looseObject({})],
  ['AiResource', (spec) => AI_RESOURCE_TYPES.get(String(spec.type)) ?? AI_RESOURCE_DEFAULT],
  ['Template', () => z.looseObject({ type: str, owner: str.optional(), steps: z.array(z.looseObject({ action: str })) })],
]);
const KIND_NAMES = [...BACKSTAGE_SPECS.keys()];

const EnvelopeSchema = z.object({
  apiVersion: z.string(),
  kind: z.string().refine((k) => BACKSTAGE_SPECS.has(k), { message: `must be one of ${KIND_NAMES.join(', ')}` }),
  metadata: z.record(z.string(), z.unknown()),
  spec: z.record(z.string(), z.unknown()).default({}),
  relations: z.unknown().optional(),
});

/** A Location document: where more catalog files are. */
export interface LocationDoc {
  kind: 'Location';
  name: string;
  targets: string[];
}

export type BackstageResult = { entity: EntityInput } | { location: LocationDoc };

/** Maps one Backstage document onto a Nexus entity input (validated again by the Nexus kind schemas). */
export function fromBackstage(doc: unknown, context?: string): BackstageResult {
  const env = EnvelopeSchema.safeParse(doc);
  if (!env.success) throw new ValidationError(issuesOf(env.error), context);
  const { kind, metadata, apiVersion } = env.data;
  const templateVersion = TEMPLATE_API_VERSIONS.includes(apiVersion);
  if (templateVersion !== (kind === 'Template')) {
    const message = kind === 'Template'
      ? `a Template must be ${TEMPLATE_API_VERSIONS.join(' or ')}`
      : `must be ${BACKSTAGE_API_VERSIONS.join(' or ')} for a ${kind}`;
    throw new ValidationError([{ path: 'apiVersion', message }], context);
  }
  const parsed = BACKSTAGE_SPECS.get(kind)!(env.data.spec).safeParse(env.data.spec);
  // Report the metadata's faults together with the spec's, so one pass over a file names them all.
  const meta0 = kind === 'Location' ? { success: true as const } : MetadataSchema.safeParse(metadata);
  const issues = [...(meta0.success ? [] : issuesOf(meta0.error, 'metadata')), ...(parsed.success ? [] : issuesOf(parsed.error, 'spec'))];
  if (!parsed.success || issues.length) throw new ValidationError(issues, context);
  const spec = { ...parsed.data } as Record<string, unknown>;
  const meta = { ...metadata, annotations: { ...(metadata.annotations as Record<string, string> | undefined), 'nexus.io/backstage-kind': kind } };
  const out = (nexusKind: string, nexusSpec: Record<string, unknown>): BackstageResult => ({
    entity: { apiVersion: NEXUS_API_VERSION, kind: nexusKind, metadata: meta as unknown as EntityInput['metadata'], spec: nexusSpec },
  });

  switch (kind) {
    case 'Component': {
      if (String(spec.type) === 'library') {
        // A library is a Package; Backstage has no version field, so 'unversioned' until a registry says more.
        // Its API and subcomponent fields stay: Backstage derives the same relations for a library.
        const { type: _t, ...rest } = spec;
        return out('Package', { version: 'unversioned', ...rest });
      }
      return out('Service', spec);
    }
    case 'Resource':
      return out('AzureResource', spec);
    case 'Group':
      return out('Team', spec);
    case 'Environment': {
      // Nexus names an environment's stage; Backstage leaves the spec open: its stage, else its lifecycle, else its name.
      const stage = [spec.stage, spec.lifecycle, metadata.name].find((v) => typeof v === 'string' && v.length > 0);
      return out('Environment', { ...spec, stage });
    }
    case 'Location': {
      const targets = [...(spec.target ? [String(spec.target)] : []), ...((spec.targets as string[] | undefined) ?? [])];
      return { location: { kind: 'Location', name: String(metadata.name ?? ''), targets } };
    }
    default:
      // API, System, Domain, User, AiResource and Template: the same kind in Nexus.
      return out(kind, spec);
  }
}

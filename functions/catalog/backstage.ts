// Backstage's catalog-info.yaml, read as it is: backstage.io/v1alpha1 (and v1beta1) Component, API,
// Resource, System, Domain, Group, User and Location, mapped onto Nexus kinds in the same envelope.
// A Component of type service or website is a Service, of type library a Package; a Group is a Team.
import { z } from 'zod';
import { MetadataSchema, NEXUS_API_VERSION, ValidationError, issuesOf, type EntityInput } from './kinds.ts';

export const BACKSTAGE_API_VERSIONS = ['backstage.io/v1alpha1', 'backstage.io/v1beta1'];

export function isBackstage(doc: unknown): boolean {
  const v = (doc as { apiVersion?: unknown } | null)?.apiVersion;
  return typeof v === 'string' && BACKSTAGE_API_VERSIONS.includes(v);
}

const str = z.string().min(1);
const strs = z.array(z.string().min(1));
// Backstage's own required fields per kind (its JSON schemas), so a file Backstage rejects is rejected here.
const BACKSTAGE_SPECS: Record<string, z.ZodType<Record<string, unknown>>> = {
  Component: z.looseObject({ type: str, lifecycle: str, owner: str, system: str.optional(), subcomponentOf: str.optional(), providesApis: strs.optional(), consumesApis: strs.optional(), dependsOn: strs.optional(), dependencyOf: strs.optional() }),
  API: z.looseObject({ type: str, lifecycle: str, owner: str, definition: z.string(), system: str.optional() }),
  Resource: z.looseObject({ type: str, owner: str, dependsOn: strs.optional(), dependencyOf: strs.optional(), system: str.optional() }),
  System: z.looseObject({ owner: str, domain: str.optional() }),
  Domain: z.looseObject({ owner: str, subdomainOf: str.optional() }),
  Group: z.looseObject({ type: str, profile: z.record(z.string(), z.unknown()).optional(), parent: str.optional(), children: strs, members: strs.optional() }),
  User: z.looseObject({ profile: z.record(z.string(), z.unknown()).optional(), memberOf: strs.optional() }),
  Location: z.looseObject({ type: str.optional(), target: str.optional(), targets: strs.optional(), presence: z.enum(['required', 'optional']).optional() }),
};

const EnvelopeSchema = z.object({
  apiVersion: z.string(),
  kind: z.string().refine((k) => k in BACKSTAGE_SPECS, { message: `must be one of ${Object.keys(BACKSTAGE_SPECS).join(', ')}` }),
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
  const { kind, metadata } = env.data;
  const parsed = BACKSTAGE_SPECS[kind]!.safeParse(env.data.spec);
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
      const type = String(spec.type);
      if (type === 'library') {
        // A library is a Package; Backstage has no version field, so 'unversioned' until a registry says more.
        const { type: _t, providesApis: _p, consumesApis: _c, subcomponentOf: _s, ...rest } = spec;
        return out('Package', { version: 'unversioned', ...rest });
      }
      return out('Service', spec);
    }
    case 'API':
      return out('API', spec);
    case 'Resource':
      return out('AzureResource', spec);
    case 'System':
      return out('System', spec);
    case 'Domain':
      return out('Domain', spec);
    case 'Group':
      return out('Team', spec);
    case 'User':
      return out('User', spec);
    case 'Location': {
      const targets = [...(spec.target ? [String(spec.target)] : []), ...((spec.targets as string[] | undefined) ?? [])];
      return { location: { kind: 'Location', name: String(metadata.name ?? ''), targets } };
    }
  }
  throw new ValidationError([{ path: 'kind', message: `unsupported Backstage kind '${kind}'` }], context);
}

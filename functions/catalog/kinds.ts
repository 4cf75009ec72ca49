// The catalog's entity model: one envelope (apiVersion, kind, metadata, spec, relations) shared by every
// kind, and a spec schema per kind with the fields people expect. These zod schemas are the single source
// of validation: the service, the importers and the REST API (OpenAPI) all use them.
import { z } from 'zod';
import { NAME_RE, NAMESPACE_RE, TAG_RE, KEY_RE, MAX_NAME } from './refs.ts';
import { AiResourceSpec, TemplateSpec } from './kinds-backstage.ts';

export const NEXUS_API_VERSION = 'nexus/v1';

export const KINDS = [
  'Service', 'Repository', 'Pipeline', 'AzureResource', 'Environment', 'Team', 'API', 'Package',
  'Incident', 'WorkItem', 'User', 'System', 'Domain', 'Stack', 'AiResource', 'Template',
] as const;
export type Kind = (typeof KINDS)[number];

const KIND_BY_LOWER: ReadonlyMap<string, Kind> = new Map(KINDS.map((k) => [k.toLowerCase(), k]));
/** The canonical spelling of a kind, case-insensitively ('azureresource' -> 'AzureResource'). */
export function canonicalKind(kind: string): Kind | undefined {
  return KIND_BY_LOWER.get(kind.toLowerCase());
}

const name = z.string()
  .max(MAX_NAME, 'must be at most 63 characters')
  .regex(NAME_RE, 'must be 1-63 characters of A-Z, a-z, 0-9, -, _ or ., beginning and ending with a letter or digit');
const namespace = z.string()
  .max(MAX_NAME, 'must be at most 63 characters')
  .regex(NAMESPACE_RE, 'must be a DNS label: lower-case a-z, 0-9 and single -');
const tag = z.string().max(MAX_NAME, 'must be at most 63 characters')
  .regex(TAG_RE, 'must be lower-case a-z, 0-9, : + # with single - between');
const keyed = z.record(z.string().max(316).regex(KEY_RE, 'key must be [prefix/]name (DNS-subdomain prefix, Backstage name)'), z.string());
/** An entity reference as written by people: `[kind:][namespace/]name`. Resolved by the service. */
const ref = z.string().min(1, 'must be an entity reference').max(200);
const refs = z.array(ref);
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

export const MetadataSchema = z.object({
  name,
  namespace: namespace.default('default'),
  title: z.string().max(200).optional(),
  description: z.string().max(4000).optional(),
  labels: keyed.optional(),
  annotations: keyed.optional(),
  tags: z.array(tag).optional(),
  links: z.array(z.object({ url: z.string().min(1), title: z.string().optional(), icon: z.string().optional(), type: z.string().optional() })).optional(),
  uid: z.string().optional(),
  etag: z.string().optional(),
});
export type Metadata = z.infer<typeof MetadataSchema>;

export const RelationDeclSchema = z.object({
  type: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be a relation type such as ownedBy or dependsOn'),
  targetRef: ref,
});
export type RelationDecl = z.infer<typeof RelationDeclSchema>;

// ---- specs -------------------------------------------------------------------------------------------
const common = {
  owner: ref.optional(),
  system: ref.optional(),
  lifecycle: z.string().optional(),
};

const ServiceSpec = z.looseObject({
  ...common,
  type: z.string().default('service'),
  dependsOn: refs.optional(),
  dependencyOf: refs.optional(),
  providesApis: refs.optional(),
  consumesApis: refs.optional(),
  repository: ref.optional(),
  deployedTo: refs.optional(),
  subcomponentOf: ref.optional(),
  tier: z.string().optional(),
  language: z.string().optional(),
  deployments: z.record(z.string(), z.object({ state: z.string(), sha: z.string().optional(), at: isoDate.optional(), url: z.string().optional() })).optional(),
});

export const PullRequest = z.object({
  number: z.number().int(), title: z.string(), author: z.string().optional(), url: z.string().optional(),
  branch: z.string().optional(), openedAt: isoDate.optional(), draft: z.boolean().optional(),
});
const RepositorySpec = z.looseObject({
  ...common,
  url: z.string().optional(),
  provider: z.enum(['github', 'azure-devops', 'other']).default('github'),
  defaultBranch: z.string().optional(),
  visibility: z.string().optional(),
  language: z.string().optional(),
  topics: z.array(z.string()).optional(),
  archived: z.boolean().optional(),
  /** CODEOWNERS rules in file order: the last matching pattern wins (GitHub's rule). */
  codeowners: z.array(z.object({ pattern: z.string(), owners: z.array(z.string()) })).optional(),
  openPullRequests: z.array(PullRequest).optional(),
  lastPush: z.object({ ref: z.string(), sha: z.string(), at: isoDate.optional(), pusher: z.string().optional() }).optional(),
});

const Run = z.object({
  id: z.string(), status: z.string(), result: z.string().optional(), branch: z.string().optional(),
  sha: z.string().optional(), at: isoDate.optional(), url: z.string().optional(), number: z.string().optional(),
});
const PipelineSpec = z.looseObject({
  ...common,
  provider: z.enum(['github-actions', 'azure-pipelines', 'azure-releases', 'other']),
  repository: ref.optional(),
  path: z.string().optional(),
  definitionId: z.string().optional(),
  project: z.string().optional(),
  url: z.string().optional(),
  deploysTo: refs.optional(),
  lastRun: Run.optional(),
});

const AzureResourceSpec = z.looseObject({
  ...common,
  type: z.string().min(1, 'must name the resource type, e.g. Microsoft.Web/sites'),
  resourceId: z.string().optional(),
  sku: z.string().optional(),
  region: z.string().optional(),
  subscription: z.string().optional(),
  resourceGroup: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  health: z.enum(['Available', 'Degraded', 'Unavailable', 'Unknown']).optional(),
  cost: z.object({ monthly: z.number().nonnegative(), currency: z.string().length(3) }).optional(),
  environment: ref.optional(),
  managedBy: ref.optional(),
  dependsOn: refs.optional(),
  dependencyOf: refs.optional(),
});

const EnvironmentSpec = z.looseObject({
  ...common,
  stage: z.string().min(1, 'must name the stage, e.g. production'),
  region: z.string().optional(),
  subscription: z.string().optional(),
  services: refs.optional(),
});

const TeamSpec = z.looseObject({
  owner: ref.optional(),
  type: z.string().default('team'),
  profile: z.object({ displayName: z.string().optional(), email: z.string().optional(), picture: z.string().optional() }).optional(),
  parent: ref.optional(),
  children: refs.optional(),
  members: refs.optional(),
  /** Entra ID group object id: members of the group belong to the team. */
  entraGroupId: z.string().optional(),
  onCall: z.object({ schedule: z.string().optional(), primary: z.string().optional(), secondary: z.string().optional(), url: z.string().optional() }).optional(),
});

const ApiSpec = z.looseObject({
  ...common,
  type: z.string().min(1, 'must name the API type, e.g. openapi'),
  version: z.string().optional(),
  definition: z.string().optional(),
  consumers: refs.optional(),
  sla: z.object({ availability: z.string().optional(), latencyP99Ms: z.number().optional(), supportHours: z.string().optional() }).optional(),
  authScheme: z.string().optional(),
});

const PackageSpec = z.looseObject({
  ...common,
  version: z.string().min(1, 'must give the version'),
  ecosystem: z.string().optional(),
  license: z.string().optional(),
  repository: ref.optional(),
  consumers: refs.optional(),
  cves: z.array(z.object({ id: z.string(), severity: z.enum(['critical', 'high', 'medium', 'low', 'unknown']), fixedIn: z.string().optional() })).optional(),
  dependsOn: refs.optional(),
});

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
const IncidentSpec = z.looseObject({
  owner: ref.optional(),
  severity: z.enum(SEVERITIES),
  status: z.enum(['open', 'acknowledged', 'resolved']),
  opened: isoDate,
  resolved: isoDate.optional(),
  provider: z.string().optional(),
  url: z.string().optional(),
  summary: z.string().optional(),
  affects: refs.optional(),
});

const WorkItemSpec = z.looseObject({
  owner: ref.optional(),
  type: z.string().min(1, 'must give the work item type, e.g. Bug'),
  state: z.string().min(1, 'must give the state'),
  title: z.string().optional(),
  sprint: z.string().optional(),
  assignee: z.string().optional(),
  project: z.string().optional(),
  priority: z.number().optional(),
  url: z.string().optional(),
  affects: refs.optional(),
});

const UserSpec = z.looseObject({
  profile: z.object({ displayName: z.string().optional(), email: z.string().optional(), picture: z.string().optional() }).optional(),
  memberOf: refs.optional(),
  entraObjectId: z.string().optional(),
  githubLogin: z.string().optional(),
});

const SystemSpec = z.looseObject({ owner: ref.optional(), domain: ref.optional(), lifecycle: z.string().optional() });
const DomainSpec = z.looseObject({ owner: ref.optional(), subdomainOf: ref.optional() });
const StackSpec = z.looseObject({
  owner: ref.optional(),
  project: z.string().optional(),
  scope: z.string().optional(),
  lastUpdate: isoDate.optional(),
  resourceCount: z.number().int().nonnegative().optional(),
});

export const SPEC_SCHEMAS: Record<Kind, z.ZodType<Record<string, unknown>>> = {
  Service: ServiceSpec, Repository: RepositorySpec, Pipeline: PipelineSpec, AzureResource: AzureResourceSpec,
  Environment: EnvironmentSpec, Team: TeamSpec, API: ApiSpec, Package: PackageSpec, Incident: IncidentSpec,
  WorkItem: WorkItemSpec, User: UserSpec, System: SystemSpec, Domain: DomainSpec, Stack: StackSpec,
  AiResource: AiResourceSpec, Template: TemplateSpec,
};

/** The envelope as written by people and importers (spec checked per kind separately). */
export const EntityInputSchema = z.object({
  apiVersion: z.literal(NEXUS_API_VERSION, { message: `must be '${NEXUS_API_VERSION}'` }),
  kind: z.string().refine((k) => canonicalKind(k) !== undefined, { message: `must be one of ${KINDS.join(', ')}` }),
  metadata: MetadataSchema,
  spec: z.record(z.string(), z.unknown()).default({}),
  relations: z.array(RelationDeclSchema).optional(),
});
export type EntityInput = z.input<typeof EntityInputSchema>;

export interface SourceInfo {
  /** Which ingestion: github, azure-devops, resource-graph, pulumi, catalog-file, incidents, api. */
  name: string;
  /** What the source covers, for orphaning: a repository file, a subscription, a stack. */
  scope?: string;
  /** The delivery id, poll id or principal behind this write. */
  ref?: string;
  /** Who caused the write, when known (used for ownership through Entra group membership). */
  actor?: string;
  /** The actor's Entra group object ids, when the write came from a signed-in principal. */
  groups?: string[];
}

export interface EntityStatus {
  source: SourceInfo;
  lastSeen: string;
  createdAt: string;
  orphaned?: boolean;
  orphanedAt?: string;
  /** The owner after resolution (spec.owner, CODEOWNERS, Azure tags, Entra group) and where it came from. */
  owner?: string;
  ownerSource?: 'owner' | 'codeowners' | 'azure-tags' | 'entra';
}

/** A relation as the catalog returns it: resolved when the target exists. */
export interface Relation {
  type: string;
  targetRef: string;
  resolved?: boolean;
}

/** A stored, validated entity. */
export type Entity = {
  apiVersion: typeof NEXUS_API_VERSION;
  kind: Kind;
  metadata: Metadata & { namespace: string };
  spec: Record<string, unknown>;
  relations: Relation[];
  status?: EntityStatus;
};

export interface Issue {
  path: string;
  message: string;
}

/** Bad input: every issue names the field at fault. Nothing was written. */
export class ValidationError extends Error {
  constructor(readonly issues: Issue[], context?: string) {
    super(`${context ? `${context}: ` : ''}invalid entity: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}

export function issuesOf(error: z.ZodError, prefix = ''): Issue[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
}

/** Validates envelope and spec; returns the entity with defaults applied, or throws ValidationError. */
export function validateEntity(input: unknown, context?: string): Omit<Entity, 'relations'> & { relations: RelationDecl[] } {
  const env = EntityInputSchema.safeParse(input);
  if (!env.success) throw new ValidationError(issuesOf(env.error), context);
  const kind = canonicalKind(env.data.kind)!;
  const spec = SPEC_SCHEMAS[kind].safeParse(env.data.spec);
  if (!spec.success) throw new ValidationError(issuesOf(spec.error, 'spec'), context);
  return {
    apiVersion: NEXUS_API_VERSION,
    kind,
    metadata: env.data.metadata as Metadata & { namespace: string },
    spec: spec.data,
    relations: env.data.relations ?? [],
  };
}

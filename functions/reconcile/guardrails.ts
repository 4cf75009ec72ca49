// The tenant's guardrail config: archetypes/guardrails.yaml (or NEXUS_GUARDRAILS_FILE),
// validated with zod so a bad file is refused with the field at fault.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CHANGE_KINDS } from './scope.ts';
import { globMatch } from '../platform/glob.ts';

const patterns = z.array(z.string().min(1));
const scopeList = z.object({
  managementGroups: patterns.optional(),
  subscriptions: patterns.optional(),
  resourceGroups: patterns.optional(),
}).strict();

const perKind = z.object(Object.fromEntries(CHANGE_KINDS.map((k) => [k, z.number().int().nonnegative().optional()])) as
  Record<(typeof CHANGE_KINDS)[number], z.ZodOptional<z.ZodNumber>>).strict();

const kindName = z.enum(CHANGE_KINDS);
const approvalRequirement = z.object({
  group: z.string().min(1),
  approvers: z.number().int().min(1).default(1),
}).strict();

export const guardrailsSchema = z.object({
  scopes: z.object({
    /** Omitted level: no allow list at that level (everything not denied). Empty list: nothing. */
    allow: scopeList.default({}),
    deny: scopeList.default({}),
    /** The tenant root group (and the tenant scope `/`) is denied unless this is true. */
    allowTenantRoot: z.boolean().default(false),
  }).strict().default({ allow: {}, deny: {}, allowTenantRoot: false }),
  blastRadius: z.object({
    maxChangesPerRun: perKind.default({}),
  }).strict().default({ maxChangesPerRun: {} }),
  rateLimits: z.object({
    intervalMinutes: z.number().positive().default(60),
    cooldownMinutes: z.number().nonnegative().default(30),
    maxChangesPerInterval: perKind.default({}),
    /** Longest emergency override an Admin may grant. */
    maxOverrideMinutes: z.number().positive().default(240),
  }).strict().default({ intervalMinutes: 60, cooldownMinutes: 30, maxChangesPerInterval: {}, maxOverrideMinutes: 240 }),
  previewReliability: z.object({
    /** Issues tolerated before the gate trips. */
    maxIssues: z.number().int().nonnegative().default(0),
    onExceed: z.enum(['fail-closed', 'report-only']).default('fail-closed'),
    /** Unknown-value paths that do not matter (ids and other computed outputs). */
    ignoreUnknownPaths: patterns.default(['id', 'urn', 'name', 'etag', 'properties.provisioningState']),
    /**
     * The unknown `properties.principalId` of a role assignment whose principal is the managed
     * identity of a policy assignment created or changed in the same ChangeSet: that id exists
     * only once the apply made the identity, so without this no first apply could happen.
     * `tolerate` lets exactly that case through (nothing else); `count` makes it an issue too.
     */
    newPolicyIdentityPrincipals: z.enum(['tolerate', 'count']).default('tolerate'),
  }).strict().default({ maxIssues: 0, onExceed: 'fail-closed', ignoreUnknownPaths: ['id', 'urn', 'name', 'etag', 'properties.provisioningState'], newPolicyIdentityPrincipals: 'tolerate' }),
  approvals: z.object({
    expiresAfterMinutes: z.number().positive().default(24 * 60),
    /**
     * Whether an approved review of the merged pull request (GitOps: GitHub reviews, Azure DevOps
     * votes of 10) counts as an approval, besides those given through the API and CLI.
     */
    pullRequestReviews: z.boolean().default(true),
    /** Who must approve a delete of a management group or of a role assignment at group scope. */
    protectedDeletes: approvalRequirement.default({ group: 'nexus-admins', approvers: 2 }),
    rules: z.array(z.object({
      name: z.string().min(1),
      kinds: z.array(kindName).optional(),
      ops: z.array(z.enum(['create', 'update', 'replace', 'delete'])).optional(),
      /** Glob patterns matched against the change's scope and ARM id. */
      scopes: patterns.optional(),
      group: z.string().min(1),
      approvers: z.number().int().min(1).default(1),
    }).strict()).default([]),
  }).strict().default({ expiresAfterMinutes: 1440, pullRequestReviews: true, protectedDeletes: { group: 'nexus-admins', approvers: 2 }, rules: [] }),
  /**
   * What a run does with configuration drift (functions/drift): `remediate` puts it back through
   * every gate, `report` leaves it and reports it, `pull-request` leaves it and proposes adopting it
   * in the landing-zone repository. Per stack by name or glob (`corp-*`); the first match wins.
   */
  drift: z.object({
    mode: z.enum(['remediate', 'report', 'pull-request']).default('remediate'),
    stacks: z.array(z.object({ match: z.string().min(1), mode: z.enum(['remediate', 'report', 'pull-request']) }).strict()).default([]),
    /** A deployment running on a stack's scope: how long a run waits for it, and how often it looks. */
    deployments: z.object({
      waitSeconds: z.number().nonnegative().default(120),
      pollSeconds: z.number().positive().default(10),
    }).strict().default({ waitSeconds: 120, pollSeconds: 10 }),
    /** How far back the change history is read when a stack has no earlier report (days, at most 14: Resource Graph's retention). */
    historyDays: z.number().positive().max(14).default(7),
  }).strict().default({ mode: 'remediate', stacks: [], deployments: { waitSeconds: 120, pollSeconds: 10 }, historyDays: 7 }),
}).strict();

export type Guardrails = z.infer<typeof guardrailsSchema>;
export type GuardrailsInput = z.input<typeof guardrailsSchema>;

export const DEFAULT_GUARDRAILS_FILE = fileURLToPath(new URL('../../archetypes/guardrails.yaml', import.meta.url));

export class GuardrailsError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'GuardrailsError';
  }
}

/** Validates a parsed config; errors name the field at fault. */
export function parseGuardrails(value: unknown, file = '<guardrails>'): Guardrails {
  const r = guardrailsSchema.safeParse(value ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new GuardrailsError(file, msg);
  }
  return r.data;
}

export async function loadGuardrails(file = DEFAULT_GUARDRAILS_FILE): Promise<Guardrails> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GuardrailsError(file, `cannot read guardrails file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new GuardrailsError(file, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseGuardrails(value, file);
}

/** The drift mode of a stack: the first `drift.stacks` entry whose name or glob matches, else `drift.mode`. */
export function driftMode(g: Guardrails, stack: string): Guardrails['drift']['mode'] {
  return g.drift.stacks.find((e) => globMatch(e.match, stack, { star: 'any' }))?.mode ?? g.drift.mode;
}

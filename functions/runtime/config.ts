// Nexus's typed configuration. `loadConfig(env)` parses every setting of settings.ts at once and
// either returns the typed sections or throws a ConfigError naming every variable at fault.
// `processConfig()` is the only code of the runtime that reads process.env.
import type { RepoRef } from '../platform/git-host/types.ts';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { SETTINGS, SETTINGS_SCHEMA, settingMeta, settingNames, type SettingName, type Settings } from './settings.ts';
import type { ScheduleEntry } from '../reconcile/schedule.ts';
import type { Role } from '../platform/identity.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Settings that cannot work; `problems` names each variable at fault (all of them, not the first). */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`the configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface StorageSettings {
  connectionString?: string;
  account?: string;
  endpointSuffix: string;
}

export interface IdentitySettings {
  tenantId?: string;
  /** Entra authority host, without a trailing slash. */
  authority: string;
  audience: string;
  localIssuer: boolean;
  home: string;
  roleGroups: Partial<Record<Role, string[]>>;
}

export interface ArmSettings {
  endpoint: string;
  token?: string;
  caFile?: string;
}

export interface WebhookSecretSettings {
  github?: string;
  azureDevOps?: string;
  azureMonitor?: string;
  pagerDuty?: string;
  opsgenie?: string;
}

export interface NexusConfig {
  storage: StorageSettings;
  identity: IdentitySettings;
  arm: ArmSettings & { tenantId?: string };
  /** The root management group: NEXUS_ROOT_MG, else the tenant's root group. */
  rootMg?: string;
  location?: string;
  compile: { guardrailsFile?: string };
  engine: {
    /** Pulumi's lock of another host counts as stale after this many seconds. */
    lockStaleSeconds: number;
    resourceBackend: 'azure-native' | 'arm-rest';
    /**
     * The variables stacks/ reads for itself (backend, CLI location, libraries) and hands to the
     * Pulumi CLI's child process, which needs PATH, HOME and the rest of a process environment.
     */
    env: Env;
  };
  drift: DriftSettings;
  reconcile: {
    holderId?: string;
    leaseSeconds: number;
    refreshFirst: boolean;
    concurrency: number;
    intervalMinutes: number;
    schedule: ScheduleEntry[];
    killSwitch: boolean;
  };
  catalog: {
    refreshSeconds: number;
    trustedRepos: string[];
    resourceGraphScopes: string[];
    resourceGraphPollMinutes: number;
    pulumiStatePollMinutes: number;
    github?: { token: string; apiUrl?: string };
  };
  /** GitOps: undefined when NEXUS_LANDING_ZONE_REPO is unset (the desired state is this package's archetypes/). */
  gitops?: GitOpsSettings;
  webhooks: { secrets: WebhookSecretSettings; drainIntervalMs: number };
  /** NCRONTAB schedules of the Azure Functions timers. */
  schedules: { reconcile: string; resourceGraph: string; pulumiState: string; inbox: string };
  server: { port: number; functionsHost: boolean };
  cli: { apiUrl: string; apiToken?: string; noLocalEnv: boolean };
  log: { level?: string };
}

export interface DriftSettings {
  /** NEXUS_DRIFT: build a drift report with every reconcile (off: the refresh preview alone). */
  enabled: boolean;
  /** The Activity Log's Log Analytics workspace; undefined: the signal is not configured. */
  activityLogWorkspaceId?: string;
  /** Log Analytics query API base (LogsQueryClient's `endpoint`), without a trailing slash. */
  logAnalyticsEndpoint: string;
  /** Principals whose changes are Nexus's own (attribution). */
  selfIdentities: string[];
  /** Tenant normalisation rules file, read by the composition root. */
  rulesFile?: string;
}

export interface GitOpsSettings {
  repo: RepoRef;
  /** As written: `github:owner/repo` or `azure-devops:org/project/repo`. */
  repoId: string;
  branch: string;
  /** Sub-folder of the repository holding the archetypes; '' for its root. */
  path: string;
  github?: {
    apiUrl?: string;
    token?: string;
    app?: { appId: string; privateKey: string; installationId?: string };
  };
  azureDevOps?: { url: string; pat?: string };
  requireSignedCommits: boolean;
  /** allowed_signers lines and armored OpenPGP key blocks (NEXUS_ALLOWED_SIGNERS). */
  allowedSigners?: string;
  /** A file of the same (NEXUS_ALLOWED_SIGNERS_FILE), read by the composition root. */
  allowedSignersFile?: string;
  cache: { dir?: string; maxBytes: number; maxSnapshotBytes: number };
  previewConcurrency: number;
  /** Base URL of links to runs (the portal). */
  publicUrl: string;
}

export const DEFAULT_HOME = fileURLToPath(new URL('../../.nexus', import.meta.url));

const secretNames: ReadonlySet<string> = new Set(settingNames().filter((n) => settingMeta(n).secret));

function problemsOf(error: z.ZodError, env: Env): ConfigProblem[] {
  return error.issues.map((i) => {
    const variable = String(i.path[0] ?? '(environment)');
    const raw = env[variable];
    const shown = raw === undefined || secretNames.has(variable as SettingName) ? '' : ` (got "${raw.length > 80 ? `${raw.slice(0, 80)}...` : raw}")`;
    const where = i.path.length > 1 ? `${i.path.slice(1).join('.')}: ` : '';
    return { variable, message: `${where}${i.message}${shown}` };
  });
}

/** Only the settings' variables, empty ones as unset (an empty app setting means "not set"). */
function settingsInput(env: Env): Record<string, string | undefined> {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(SETTINGS)) {
    const v = env[name];
    // A passphrase may be empty on purpose; every other empty value is unset.
    input[name] = v === '' && !/PASSPHRASE$/.test(name) ? undefined : v;
  }
  return input;
}

/** The typed configuration from an environment record; throws a ConfigError naming every problem. */
export function loadConfig(env: Env): NexusConfig {
  const parsed = SETTINGS_SCHEMA.safeParse(settingsInput(env));
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error, env));
  const problems = gitopsProblems(parsed.data);
  if (problems.length) throw new ConfigError(problems);
  return build(parsed.data, env);
}

function build(s: Settings, env: Env): NexusConfig {
  const alerts = s.NEXUS_ALERTS_WEBHOOK_SECRET;
  const tenantRoot = s.NEXUS_ROOT_MG ?? s.NEXUS_TENANT_ID ?? s.NEXUS_ARM_TENANT_ID;
  return {
    storage: { connectionString: s.NEXUS_STORAGE_CONNECTION_STRING?.trim(), account: s.NEXUS_STORAGE_ACCOUNT, endpointSuffix: s.NEXUS_STORAGE_ENDPOINT_SUFFIX.trim() },
    identity: {
      tenantId: s.NEXUS_ENTRA_TENANT_ID,
      authority: s.NEXUS_ENTRA_AUTHORITY.replace(/\/+$/, ''),
      audience: s.NEXUS_API_AUDIENCE,
      localIssuer: s.NEXUS_LOCAL_ISSUER,
      home: s.NEXUS_HOME ?? DEFAULT_HOME,
      roleGroups: s.NEXUS_ROLE_GROUPS ?? {},
    },
    arm: { endpoint: s.NEXUS_ARM_ENDPOINT.replace(/\/+$/, ''), token: s.NEXUS_ARM_TOKEN, caFile: s.NEXUS_ARM_CA_FILE, tenantId: s.NEXUS_ARM_TENANT_ID },
    rootMg: tenantRoot,
    location: s.NEXUS_LOCATION,
    compile: { guardrailsFile: s.NEXUS_GUARDRAILS_FILE },
    engine: { lockStaleSeconds: s.NEXUS_PULUMI_LOCK_STALE_SECONDS, resourceBackend: s.NEXUS_RESOURCE_BACKEND, env: Object.freeze(engineEnv(env)) },
    drift: driftSettings(s),
    reconcile: {
      holderId: s.NEXUS_HOLDER_ID,
      leaseSeconds: s.NEXUS_LEASE_SECONDS,
      refreshFirst: s.NEXUS_RECONCILE_REFRESH,
      concurrency: s.NEXUS_RECONCILE_CONCURRENCY,
      intervalMinutes: s.NEXUS_RECONCILE_INTERVAL_MINUTES,
      schedule: s.NEXUS_RECONCILE_SCHEDULE?.entries ?? [],
      killSwitch: s.NEXUS_KILL_SWITCH,
    },
    catalog: {
      refreshSeconds: s.NEXUS_CATALOG_REFRESH_SECONDS,
      trustedRepos: s.NEXUS_CATALOG_TRUSTED_REPOS ?? [],
      resourceGraphScopes: s.NEXUS_RESOURCE_GRAPH_SCOPES?.length
        ? s.NEXUS_RESOURCE_GRAPH_SCOPES
        : [tenantRoot ? `/providers/Microsoft.Management/managementGroups/${tenantRoot}` : '/'],
      resourceGraphPollMinutes: s.NEXUS_RESOURCE_GRAPH_POLL_MINUTES,
      pulumiStatePollMinutes: s.NEXUS_PULUMI_STATE_POLL_MINUTES,
      github: s.NEXUS_GITHUB_TOKEN ? { token: s.NEXUS_GITHUB_TOKEN, apiUrl: s.NEXUS_GITHUB_API_URL } : undefined,
    },
    gitops: gitopsSettings(s),
    webhooks: {
      secrets: {
        github: s.NEXUS_GITHUB_WEBHOOK_SECRET,
        azureDevOps: s.NEXUS_ADO_WEBHOOK_SECRET,
        // One secret for every alert source, unless a source has its own.
        azureMonitor: s.NEXUS_AZURE_MONITOR_WEBHOOK_SECRET ?? alerts,
        pagerDuty: s.NEXUS_PAGERDUTY_WEBHOOK_SECRET ?? alerts,
        opsgenie: s.NEXUS_OPSGENIE_WEBHOOK_SECRET ?? alerts,
      },
      drainIntervalMs: s.NEXUS_INBOX_DRAIN_MS,
    },
    schedules: {
      reconcile: s.NEXUS_RECONCILE_TICK_CRON,
      resourceGraph: s.NEXUS_RESOURCE_GRAPH_SCHEDULE,
      pulumiState: s.NEXUS_PULUMI_STATE_SCHEDULE,
      inbox: s.NEXUS_INBOX_SCHEDULE,
    },
    server: { port: s.PORT, functionsHost: Boolean(s.FUNCTIONS_WORKER_RUNTIME) },
    cli: { apiUrl: s.NEXUS_API_URL.replace(/\/+$/, ''), apiToken: s.NEXUS_API_TOKEN, noLocalEnv: s.NEXUS_NO_LOCAL_ENV },
    log: { level: s.NEXUS_LOG_LEVEL },
  };
}

/** The sandbox records Nexus's writes as nexus@sandbox and listens on loopback only. */
const SANDBOX_SELF = 'nexus@sandbox';

function driftSettings(s: Settings): DriftSettings {
  let loopback = false;
  try {
    loopback = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/i.test(new URL(s.NEXUS_ARM_ENDPOINT).hostname);
  } catch {
    // NEXUS_ARM_ENDPOINT is validated as a URL by its schema.
  }
  return {
    enabled: s.NEXUS_DRIFT,
    activityLogWorkspaceId: s.NEXUS_ACTIVITY_LOG_WORKSPACE_ID?.toLowerCase(),
    logAnalyticsEndpoint: s.NEXUS_LOG_ANALYTICS_ENDPOINT.replace(/\/+$/, ''),
    // Explicit identities win; in Azure, infra sets the Function App identity's principal and client ids.
    selfIdentities: s.NEXUS_DRIFT_SELF_IDENTITIES ?? (loopback ? [SANDBOX_SELF] : []),
    rulesFile: s.NEXUS_DRIFT_RULES,
  };
}

export function parseRepoRef(id: string): RepoRef {
  const [provider, rest = ''] = id.split(/:(.*)/s);
  const parts = rest.split('/');
  if (provider === 'github' && parts.length === 2) return { provider, owner: parts[0], repo: parts[1] };
  if (provider === 'azure-devops' && parts.length === 3) return { provider, org: parts[0], project: parts[1], repo: parts[2] };
  throw new Error(`${id}: must be github:owner/repo or azure-devops:org/project/repo`);
}

/** Settings that only make sense together: each problem names the variable to set. */
function gitopsProblems(s: Settings): ConfigProblem[] {
  const id = s.NEXUS_LANDING_ZONE_REPO;
  const out: ConfigProblem[] = [];
  if (!id) {
    if (s.NEXUS_REQUIRE_SIGNED_COMMITS) out.push({ variable: 'NEXUS_REQUIRE_SIGNED_COMMITS', message: 'signed commits are checked for the landing-zone repository: set NEXUS_LANDING_ZONE_REPO too' });
    return out;
  }
  const repo = parseRepoRef(id);
  if (repo.provider === 'github') {
    if (!s.NEXUS_GITHUB_TOKEN && !(s.NEXUS_GITHUB_APP_ID && s.NEXUS_GITHUB_APP_PRIVATE_KEY)) {
      out.push({ variable: 'NEXUS_LANDING_ZONE_REPO', message: `reading ${id} needs NEXUS_GITHUB_TOKEN, or NEXUS_GITHUB_APP_ID and NEXUS_GITHUB_APP_PRIVATE_KEY` });
    }
    if (s.NEXUS_GITHUB_APP_ID && !s.NEXUS_GITHUB_APP_PRIVATE_KEY) out.push({ variable: 'NEXUS_GITHUB_APP_PRIVATE_KEY', message: 'NEXUS_GITHUB_APP_ID is set: the App\'s private key is needed too' });
    if (!s.NEXUS_GITHUB_WEBHOOK_SECRET) out.push({ variable: 'NEXUS_GITHUB_WEBHOOK_SECRET', message: `pushes and pull requests of ${id} arrive as signed webhooks: set the webhook secret` });
  } else {
    if (!s.NEXUS_ADO_WEBHOOK_SECRET) out.push({ variable: 'NEXUS_ADO_WEBHOOK_SECRET', message: `pushes and pull requests of ${id} arrive as service hooks: set their basic-auth secret` });
    // Azure DevOps's REST API gives no commit object to check a signature against.
    if (s.NEXUS_REQUIRE_SIGNED_COMMITS) out.push({ variable: 'NEXUS_REQUIRE_SIGNED_COMMITS', message: 'Azure DevOps does not expose commit signatures through its REST API, so Nexus cannot verify them: use a GitHub repository or turn this off' });
  }
  if (s.NEXUS_REQUIRE_SIGNED_COMMITS && !s.NEXUS_ALLOWED_SIGNERS && !s.NEXUS_ALLOWED_SIGNERS_FILE) {
    out.push({ variable: 'NEXUS_ALLOWED_SIGNERS', message: 'NEXUS_REQUIRE_SIGNED_COMMITS=1 needs the allowed signers (or NEXUS_ALLOWED_SIGNERS_FILE)' });
  }
  return out;
}

function gitopsSettings(s: Settings): GitOpsSettings | undefined {
  const id = s.NEXUS_LANDING_ZONE_REPO;
  if (!id) return undefined;
  const repo = parseRepoRef(id);
  const app = s.NEXUS_GITHUB_APP_ID && s.NEXUS_GITHUB_APP_PRIVATE_KEY
    ? { appId: s.NEXUS_GITHUB_APP_ID, privateKey: s.NEXUS_GITHUB_APP_PRIVATE_KEY, installationId: s.NEXUS_GITHUB_APP_INSTALLATION_ID }
    : undefined;
  return {
    repo,
    repoId: id,
    branch: s.NEXUS_LANDING_ZONE_BRANCH,
    path: s.NEXUS_LANDING_ZONE_PATH ?? '',
    github: repo.provider === 'github' ? { apiUrl: s.NEXUS_GITHUB_API_URL?.replace(/\/+$/, ''), token: s.NEXUS_GITHUB_TOKEN, app } : undefined,
    azureDevOps: repo.provider === 'azure-devops' ? { url: s.NEXUS_ADO_URL.replace(/\/+$/, ''), pat: s.NEXUS_ADO_PAT } : undefined,
    requireSignedCommits: s.NEXUS_REQUIRE_SIGNED_COMMITS,
    allowedSigners: s.NEXUS_ALLOWED_SIGNERS,
    allowedSignersFile: s.NEXUS_ALLOWED_SIGNERS_FILE,
    cache: { dir: s.NEXUS_GITOPS_CACHE_DIR, maxBytes: s.NEXUS_GITOPS_CACHE_MB * 1024 * 1024, maxSnapshotBytes: s.NEXUS_GITOPS_MAX_SNAPSHOT_MB * 1024 * 1024 },
    previewConcurrency: s.NEXUS_PREVIEW_CONCURRENCY,
    publicUrl: (s.NEXUS_PUBLIC_URL ?? s.NEXUS_API_URL).replace(/\/+$/, ''),
  };
}

/**
 * The environment handed to the engine and the Pulumi CLI: as the process has it, except that a
 * setting set to the empty string is left out, as loadConfig reads it (unset), so the engine's
 * own defaults apply instead of ''. Passphrases keep an empty value: Pulumi accepts one.
 */
export function engineEnv(env: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    const empty = v === undefined || v.trim() === '';
    if (empty && !/PASSPHRASE/.test(k) && (/^(NEXUS_|AZURE_STORAGE_)/.test(k) || (settingNames() as string[]).includes(k))) continue;
    out[k] = v;
  }
  return out;
}

/** The process's own environment: the one place the runtime reads process.env. */
export function processEnv(): Env {
  return process.env;
}

/** Whether this process is an Azure Functions worker (the host sets FUNCTIONS_WORKER_RUNTIME). */
export function onFunctionsHost(): boolean {
  return Boolean(processEnv().FUNCTIONS_WORKER_RUNTIME);
}

/**
 * The configuration of this process (entry points call it once and pass the result down).
 * `fill` supplies variables the environment leaves unset (the CLI's .nexus/local.env).
 */
export function processConfig(fill: Env = {}): NexusConfig {
  return loadConfig({ ...fill, ...processEnv() });
}

// Every environment variable Nexus reads, in one zod schema: its type, its default (a string, as it
// would be written in the environment, so it goes through the same parsing) and one line saying
// what it does. functions/runtime/config.ts turns the parsed values into typed sections; the
// README's settings table is generated from this list (scripts/settings-table.ts).
import { z } from 'zod';
import { parseSchedule, ScheduleConfigError } from '../reconcile/schedule.ts';

export const SECTIONS = ['storage', 'identity', 'arm', 'compile', 'engine', 'reconcile', 'drift', 'catalog', 'gitops', 'webhooks', 'schedules', 'server', 'cli', 'log'] as const;
export type Section = (typeof SECTIONS)[number];

export interface SettingMeta {
  section: Section;
  description: string;
  /** The default as written in the environment; absent: unset means off or "not configured". */
  default?: string;
  /** Never echoed in errors (tokens, keys, secrets). */
  secret?: boolean;
}

const opt = <T extends z.ZodType>(section: Section, description: string, schema: T, extra: { secret?: boolean } = {}) =>
  schema.optional().meta({ section, description, ...extra } satisfies SettingMeta);

const def = <T extends z.ZodType<unknown, string>>(section: Section, description: string, schema: T, dflt: string) =>
  schema.prefault(dflt as z.input<T>).meta({ section, description, default: dflt } satisfies SettingMeta);

const text = z.string();
const flag = z.string().regex(/^(1|0|true|false|on|off|yes|no)$/i, 'must be 1 or 0 (or true/false, on/off, yes/no)')
  .transform((v) => /^(1|true|on|yes)$/i.test(v));
const number = (min: number, max: number, what: string) =>
  z.string().regex(/^\s*-?\d+(\.\d+)?\s*$/, `must be a number of ${what}`).transform(Number)
    .pipe(z.number().min(min, `must be at least ${min} ${what}`).max(max, `must be at most ${max} ${what}`));
const positive = (what: string) =>
  z.string().regex(/^\s*\d+(\.\d+)?\s*$/, `must be a positive number of ${what}`).transform(Number).pipe(z.number().positive(`must be a positive number of ${what}`));
const port = z.string().regex(/^\s*\d+\s*$/, 'must be a port number (0-65535; 0 picks a free one)').transform(Number)
  .pipe(z.number().max(65535, 'must be a port number (0-65535; 0 picks a free one)'));
const httpsUrl = z.string().refine((v) => { try { return new URL(v).protocol === 'https:'; } catch { return false; } }, 'must be an https URL (Azure SDK bearer auth refuses http)');
const anyUrl = z.string().refine((v) => { try { return Boolean(new URL(v)); } catch { return false; } }, 'must be a URL');
// NCRONTAB as the Functions host reads it: six fields, seconds first.
const ncrontab = z.string().regex(/^\S+(\s+\S+){5}$/, 'must be an NCRONTAB expression with six fields (seconds first), e.g. "0 */5 * * * *"');
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a workspace id (a GUID)');
const list = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
const roleGroupsSchema = z.partialRecord(z.enum(['Developer', 'PlatformEngineer', 'TeamLead', 'Admin']), z.array(z.string()));
const roleGroups = z.string().transform((v, ctx) => {
  let raw: unknown;
  try {
    raw = JSON.parse(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not valid JSON (expected {"Admin":["<group id>"],...})' });
    return z.NEVER;
  }
  const parsed = roleGroupsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) ctx.addIssue({ code: 'custom', message: `${i.path.join('.') || '(root)'}: ${i.message}` });
    return z.NEVER;
  }
  return parsed.data;
});
const reconcileSchedule = z.string().transform((v, ctx) => {
  try {
    return { text: v, entries: parseSchedule(v) };
  } catch (err) {
    if (!(err instanceof ScheduleConfigError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message.replace(/^NEXUS_RECONCILE_SCHEDULE: /, '') });
    return z.NEVER;
  }
});
const repoPatterns = list.refine((l) => l.every((p) => /^[A-Za-z0-9_.*-]+\/[A-Za-z0-9_.*-]+$/.test(p)), 'must be a comma list of owner/repo (globs with * allowed)');

const landingZoneRepo = z.string().regex(
  /^(github:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+|azure-devops:[A-Za-z0-9_.-]+\/[^/\s]+\/[^/\s]+)$/,
  'must be github:owner/repo or azure-devops:org/project/repo',
);
// Git's ref-name rules (git check-ref-format) on top of the character set; a refs/ prefix would
// never equal the branch of a push event, so it is refused rather than silently never matched.
const gitBranch = z.string().regex(/^(?!-)(?!refs\/)(?!.*\.\.)(?!.*\/\/)(?!(.*\/)?\.)(?!.*\.lock(\/|$))(?!.*[/.]$)[A-Za-z0-9._\/-]{1,200}$/, 'must be a branch name without refs/heads/ (letters, digits, . _ - /; no .., //, .lock, leading - or ., trailing / or .)');
const repoPath = z.string().regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\0]{0,500}$/, 'must be a relative folder inside the repository (no .., no leading /)')
  .transform((v) => v.replace(/\/+$/, ''));

/** Variable name -> schema. Order is the README's order. */
export const SETTINGS = {
  // storage
  NEXUS_STORAGE_CONNECTION_STRING: opt('storage', 'Connection string of the storage account (Azurite locally; `npm run up` writes it); wins over NEXUS_STORAGE_ACCOUNT.', text, { secret: true }),
  NEXUS_STORAGE_ACCOUNT: opt('storage', 'Storage account name in Azure, reached with the managed identity (DefaultAzureCredential).', z.string().regex(/^[a-z0-9]{3,24}$/, 'must be a storage account name (3-24 lowercase letters and digits)')),
  NEXUS_STORAGE_ENDPOINT_SUFFIX: def('storage', 'Endpoint suffix of the storage account (sovereign clouds differ).', text, 'core.windows.net'),

  // identity
  NEXUS_ENTRA_TENANT_ID: opt('identity', 'Entra ID tenant whose access tokens the API accepts.', text),
  NEXUS_ENTRA_AUTHORITY: def('identity', 'Entra authority host (a local JWKS stand-in in tests).', anyUrl, 'https://login.microsoftonline.com'),
  NEXUS_API_AUDIENCE: def('identity', 'Accepted token audiences (comma list: application id and/or App ID URI).', text, 'api://nexus'),
  NEXUS_LOCAL_ISSUER: def('identity', 'Run the local token issuer (development and tests); its keys live under NEXUS_HOME.', flag, '0'),
  NEXUS_ROLE_GROUPS: opt('identity', 'JSON map of role to Entra group ids granting it, e.g. {"Admin":["<group id>"]}.', roleGroups),
  NEXUS_HOME: opt('identity', 'Folder for local data (issuer keys, passphrase, local.env); default `.nexus/` at the repository root.', text),

  // arm
  NEXUS_ARM_ENDPOINT: def('arm', 'ARM endpoint (the local ARM sandbox in development).', httpsUrl, 'https://management.azure.com'),
  NEXUS_ARM_TOKEN: opt('arm', 'Fixed bearer token for ARM (the sandbox\'s); unset: DefaultAzureCredential.', text, { secret: true }),
  NEXUS_ARM_CA_FILE: opt('arm', 'Extra CA certificate (PEM file) trusted for the ARM endpoint.', text),
  NEXUS_ARM_TENANT_ID: opt('arm', 'Tenant id of the ARM endpoint (the sandbox sets it); a fallback for the root management group.', text),
  NEXUS_TENANT_ID: opt('arm', 'Azure tenant id; the tenant root group when NEXUS_ROOT_MG is unset.', text),
  NEXUS_ROOT_MG: opt('arm', 'Management group the landing zones hang under.', text),
  NEXUS_LOCATION: opt('arm', 'Default Azure region of the compiled resources.', text),

  // compile
  NEXUS_ALZ_LIBRARY: opt('compile', 'Folder of the official ALZ library (platform/alz); default ../shared/alz-library/platform/alz from the repository.', text),
  NEXUS_BUILTIN_POLICIES: opt('compile', 'Folder of Azure built-in policy definitions; default ../shared/azure-builtin-policies from the repository.', text),
  NEXUS_BUILTIN_CACHE: opt('compile', 'Cache folder for built-in policies read from ARM; default ~/.cache/nexus/builtin-policies.', text),
  NEXUS_GUARDRAILS_FILE: opt('compile', 'Guardrails YAML file; default archetypes/guardrails.yaml.', text),

  // engine
  NEXUS_PULUMI_BACKEND_URL: opt('engine', 'Pulumi backend URL; default azblob://pulumi-state in the configured storage account.', text),
  NEXUS_SECRETS_PROVIDER: def('engine', 'Pulumi secrets provider: passphrase, or e.g. azurekeyvault://<vault>.vault.azure.net/keys/<key>.', text, 'passphrase'),
  NEXUS_PULUMI_PASSPHRASE: opt('engine', 'Passphrase of the passphrase provider; default one generated and kept in NEXUS_HOME.', z.string(), { secret: true }),
  PULUMI_CONFIG_PASSPHRASE: opt('engine', 'Pulumi\'s own passphrase variable, used when NEXUS_PULUMI_PASSPHRASE is unset.', z.string(), { secret: true }),
  NEXUS_PULUMI_VERSION: opt('engine', 'Pulumi CLI version to run; default package.json nexus.pulumiVersion.', text),
  NEXUS_PULUMI_DIR: opt('engine', 'Folder holding the pulumi CLI (what scripts/build-pulumi.sh prints).', text),
  NEXUS_TOOLS_DIR: opt('engine', 'Cache of built tools (the Pulumi CLI); default ~/.cache/nexus.', text),
  PULUMI_HOME: opt('engine', 'Pulumi\'s home (plugins); default ~/.pulumi.', text),
  NEXUS_RESOURCE_BACKEND: def('engine', 'How resources are created: azure-native (Azure) or arm-rest (the ARM sandbox).', z.enum(['azure-native', 'arm-rest']), 'azure-native'),
  NEXUS_PULUMI_LOCK_STALE_SECONDS: def('engine', 'Age after which another host\'s Pulumi lock counts as stale.', positive('seconds'), '3600'),
  AZURE_STORAGE_ACCOUNT: opt('engine', 'Storage account of the azblob backend (go-cloud\'s variable); default from the storage settings.', text),
  AZURE_STORAGE_KEY: opt('engine', 'Account key of the azblob backend; default from the connection string.', text, { secret: true }),
  AZURE_STORAGE_DOMAIN: opt('engine', 'Blob domain of the azblob backend when the URL names none.', text),
  AZURE_STORAGE_PROTOCOL: opt('engine', 'Blob protocol of the azblob backend when the URL names none.', z.enum(['http', 'https'])),

  // reconcile
  NEXUS_HOLDER_ID: opt('reconcile', 'Name of this instance in leases, runs and audit; default host/pid/random.', text),
  NEXUS_LEASE_SECONDS: def('reconcile', 'Stack lease duration in seconds (15..60).', number(15, 60, 'seconds'), '30'),
  NEXUS_RECONCILE_REFRESH: def('reconcile', 'Look for drift first (refresh preview) and refresh state before the preview.', flag, '1'),
  NEXUS_RECONCILE_CONCURRENCY: def('reconcile', 'Stacks reconciled at once in a pass.', number(1, 64, 'stacks'), '2'),
  NEXUS_RECONCILE_INTERVAL_MINUTES: def('reconcile', 'Minutes between timer reconciles of a stack.', positive('minutes'), '10'),
  NEXUS_RECONCILE_SCHEDULE: opt('reconcile', 'Per stack or domain intervals, e.g. stack:corp=5,domain:platform=30.', reconcileSchedule),
  NEXUS_KILL_SWITCH: def('reconcile', 'Force the kill switch on (no applies) whatever the settings table says.', flag, '0'),

  // drift
  NEXUS_DRIFT: def('drift', 'Drift from every signal with each reconcile (change history, Activity Log, compliance, remediations, deployments, normalised and attributed); 0: the refresh preview alone.', flag, '1'),
  NEXUS_ACTIVITY_LOG_WORKSPACE_ID: opt('drift', 'Log Analytics workspace (GUID) the managed management group streams its Activity Log to; unset: no Activity Log signal.', guid),
  NEXUS_LOG_ANALYTICS_ENDPOINT: def('drift', 'Log Analytics query API, up to its version (the ARM sandbox locally).', httpsUrl, 'https://api.loganalytics.io/v1'),
  NEXUS_DRIFT_SELF_IDENTITIES: opt('drift', 'Nexus\'s own identities as the change history names them (comma list: principal and client ids); default nexus@sandbox when NEXUS_ARM_ENDPOINT is on loopback (the sandbox), else none.', list),
  NEXUS_DRIFT_RULES: opt('drift', 'Tenant drift normalisation rules (YAML file) that add to or override the shipped rules by name.', text),

  // catalog
  NEXUS_CATALOG_REFRESH_SECONDS: def('catalog', 'Seconds between refreshes of the catalog index from storage (0 turns them off).', number(0, 3600, 'seconds'), '5'),
  NEXUS_CATALOG_TRUSTED_REPOS: opt('catalog', 'Repositories (owner/repo, * globs) whose catalog-info.yaml may define Users and Groups.', repoPatterns),
  NEXUS_RESOURCE_GRAPH_SCOPES: opt('catalog', 'Scopes the Resource Graph poll reads (comma list of ids); default the root management group, else everything.', list),
  NEXUS_RESOURCE_GRAPH_POLL_MINUTES: def('catalog', 'Minutes between Resource Graph polls (local runtime).', positive('minutes'), '5'),
  NEXUS_PULUMI_STATE_POLL_MINUTES: def('catalog', 'Minutes between Pulumi state imports (local runtime).', positive('minutes'), '1'),
  NEXUS_GITHUB_TOKEN: opt('catalog', 'GitHub token to read catalog-info.yaml and CODEOWNERS of pushed commits, and the landing-zone repository (unless a GitHub App is set); a Key Vault reference in Azure.', text, { secret: true }),
  NEXUS_GITHUB_API_URL: opt('catalog', 'GitHub API base URL (GitHub Enterprise Server; the GitHub stand-in locally).', anyUrl),

  // gitops
  NEXUS_LANDING_ZONE_REPO: opt('gitops', 'The landing-zone repository Nexus is driven from: github:owner/repo or azure-devops:org/project/repo; unset: the archetypes/ folder of this package.', landingZoneRepo),
  NEXUS_LANDING_ZONE_BRANCH: def('gitops', 'The tracked branch: pushes to it are applied, pull requests against it are previewed.', gitBranch, 'main'),
  NEXUS_LANDING_ZONE_PATH: opt('gitops', 'Sub-folder of the repository that holds the archetypes (default its root).', repoPath),
  NEXUS_GITHUB_APP_ID: opt('gitops', 'GitHub App id: the landing-zone repository is read and commented on with its installation token.', z.string().regex(/^\d+$/, 'must be a numeric GitHub App id')),
  NEXUS_GITHUB_APP_PRIVATE_KEY: opt('gitops', 'PEM private key of the GitHub App (a Key Vault reference in Azure).', text, { secret: true }),
  NEXUS_GITHUB_APP_INSTALLATION_ID: opt('gitops', 'Installation id of the GitHub App; default looked up for the repository.', z.string().regex(/^\d+$/, 'must be a numeric installation id')),
  NEXUS_ADO_URL: def('gitops', 'Azure DevOps services URL; the organisation follows it (the stand-in locally).', anyUrl, 'https://dev.azure.com'),
  NEXUS_ADO_PAT: opt('gitops', 'Azure DevOps personal access token (a Key Vault reference in Azure); unset: the managed identity.', text, { secret: true }),
  NEXUS_REQUIRE_SIGNED_COMMITS: def('gitops', 'Apply only commits whose SSH or OpenPGP signature Nexus verifies against the allowed signers.', flag, '0'),
  NEXUS_ALLOWED_SIGNERS: opt('gitops', 'Allowed signers: lines in ssh-keygen allowed_signers format and/or armored OpenPGP public key blocks.', text),
  NEXUS_ALLOWED_SIGNERS_FILE: opt('gitops', 'File with allowed signers (same format), read at start.', text),
  NEXUS_GITOPS_CACHE_DIR: opt('gitops', 'Folder of the commit snapshots of the landing-zone repository; default <tmp>/nexus-repos.', text),
  NEXUS_GITOPS_CACHE_MB: def('gitops', 'Size bound of the snapshot cache (least recently used commits go first).', number(16, 100_000, 'MB'), '512'),
  NEXUS_GITOPS_MAX_SNAPSHOT_MB: def('gitops', 'Largest repository snapshot Nexus reads (bigger archives are refused).', number(1, 10_000, 'MB'), '100'),
  NEXUS_PREVIEW_CONCURRENCY: def('gitops', 'Pull request stack previews run at once, across pull requests.', number(1, 16, 'previews'), '2'),
  NEXUS_PUBLIC_URL: opt('gitops', 'The URL users reach Nexus at (links to runs in pull request comments); default NEXUS_API_URL.', anyUrl),

  // webhooks
  NEXUS_GITHUB_WEBHOOK_SECRET: opt('webhooks', 'Secret of the GitHub webhook (HMAC signature).', text, { secret: true }),
  NEXUS_ADO_WEBHOOK_SECRET: opt('webhooks', 'Basic-auth secret of the Azure DevOps service hook.', text, { secret: true }),
  NEXUS_ALERTS_WEBHOOK_SECRET: opt('webhooks', 'Secret of every alert source without its own.', text, { secret: true }),
  NEXUS_AZURE_MONITOR_WEBHOOK_SECRET: opt('webhooks', 'Secret of the Azure Monitor alert webhook.', text, { secret: true }),
  NEXUS_PAGERDUTY_WEBHOOK_SECRET: opt('webhooks', 'Secret of the PagerDuty webhook.', text, { secret: true }),
  NEXUS_OPSGENIE_WEBHOOK_SECRET: opt('webhooks', 'Secret of the Opsgenie webhook.', text, { secret: true }),
  NEXUS_INBOX_DRAIN_MS: def('webhooks', 'Milliseconds between drains of the webhook inbox (local server).', number(10, 3_600_000, 'milliseconds'), '2000'),

  // schedules (Azure Functions timers)
  NEXUS_RECONCILE_TICK_CRON: def('schedules', 'Functions timer of the reconcile tick (each tick reconciles the stacks that are due).', ncrontab, '0 * * * * *'),
  NEXUS_RESOURCE_GRAPH_SCHEDULE: def('schedules', 'Functions timer of the Resource Graph poll.', ncrontab, '0 */5 * * * *'),
  NEXUS_PULUMI_STATE_SCHEDULE: def('schedules', 'Functions timer of the Pulumi state import.', ncrontab, '30 * * * * *'),
  NEXUS_INBOX_SCHEDULE: def('schedules', 'Functions timer of the webhook inbox drain.', ncrontab, '*/15 * * * * *'),

  // server
  PORT: def('server', 'Port of the local API server.', port, '7070'),
  FUNCTIONS_WORKER_RUNTIME: opt('server', 'Set by the Azure Functions host; registers the triggers when present.', text),

  // cli
  NEXUS_API_URL: def('cli', 'The Nexus API the CLI talks to.', anyUrl, 'http://127.0.0.1:7070'),
  NEXUS_API_TOKEN: opt('cli', 'Entra access token the CLI acts with; unset on the local system: the local operator.', text, { secret: true }),
  NEXUS_NO_LOCAL_ENV: def('cli', 'Do not fill unset variables from NEXUS_HOME/local.env.', flag, '0'),

  // log
  NEXUS_LOG_LEVEL: opt('log', 'pino log level; default info (the CLI: warn).', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
} satisfies Record<string, z.ZodType>;

export type SettingName = keyof typeof SETTINGS;
export const SETTINGS_SCHEMA = z.object(SETTINGS);
export type Settings = z.output<typeof SETTINGS_SCHEMA>;

/** The metadata of one setting (section, description, default). */
export function settingMeta(name: SettingName): SettingMeta {
  return z.globalRegistry.get(SETTINGS[name]) as unknown as SettingMeta;
}

export function settingNames(): SettingName[] {
  return Object.keys(SETTINGS) as SettingName[];
}

// The Azure resources Nexus runs on. Identity-based access throughout: the Function App's
// user-assigned identity reaches Storage and Key Vault by RBAC, no keys in app settings.
import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as keyvault from '@pulumi/azure-native/keyvault/index.js';
import * as managedidentity from '@pulumi/azure-native/managedidentity/index.js';
import * as monitor from '@pulumi/azure-native/monitor/index.js';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights/index.js';
import * as resources from '@pulumi/azure-native/resources/index.js';
import * as storage from '@pulumi/azure-native/storage/index.js';
import * as web from '@pulumi/azure-native/web/index.js';

export interface NexusPlatformArgs {
  location: string;
  /** Lower-case letters and digits; names of globally unique resources derive from it. */
  prefix: string;
  /** Management group id that Nexus manages. The tenant root group is refused. */
  managedRootMg: string;
  tenantId?: pulumi.Input<string>;
  /** The API's Entra app registration: its App ID URI or application id (tokens' audience). */
  apiAudience?: string;
  /** Entra group object ids per Nexus role, e.g. `{ Admin: ['<id>'] }`. */
  roleGroups?: Partial<Record<'Developer' | 'PlatformEngineer' | 'TeamLead' | 'Admin', string[]>>;
}

/** Built-in role definition ids (the same in every tenant). */
export const BUILTIN_ROLES = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
  resourcePolicyContributor: '36243c78-bf99-498c-9df9-86d9f8d28608',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  managementGroupContributor: '5d58bcaf-24a5-4b20-bdb6-eed9f69fbe4c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893',
} as const;

/** The Activity Log categories drift attribution reads (who changed the landing-zone core). */
export const ACTIVITY_LOG_CATEGORIES = ['Administrative', 'Policy'] as const;

const roleId = (scope: pulumi.Input<string>, role: string) =>
  pulumi.interpolate`${scope}/providers/Microsoft.Authorization/roleDefinitions/${role}`;

export class NexusPlatform extends pulumi.ComponentResource {
  readonly functionAppUrl: pulumi.Output<string>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly keyVaultUri: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;

  constructor(name: string, args: NexusPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('nexus:platform:NexusPlatform', name, {}, opts);
    if (!/^[a-z0-9]{3,11}$/.test(args.prefix)) {
      throw new Error(`infra config 'prefix': '${args.prefix}' must be 3-11 lower-case letters or digits`);
    }
    if (!args.managedRootMg) throw new Error(`infra config 'managedRootMg' is required`);
    // The tenant root group's id is the tenant id.
    if (typeof args.tenantId === 'string' && args.managedRootMg.toLowerCase() === args.tenantId.toLowerCase()) {
      throw new Error(`infra config 'managedRootMg': Nexus never manages the tenant root group; name a management group below it`);
    }
    const parent = { parent: this };
    const tenantId = args.tenantId ?? authorization.getClientConfigOutput().tenantId;

    const group = new resources.ResourceGroup(`${name}-rg`, { location: args.location }, parent);
    const identity = new managedidentity.UserAssignedIdentity(`${name}-id`, {
      resourceGroupName: group.name, location: args.location,
    }, parent);

    const account = new storage.StorageAccount(`${name}-st`, {
      resourceGroupName: group.name,
      location: args.location,
      kind: storage.Kind.StorageV2,
      sku: { name: storage.SkuName.Standard_ZRS },
      minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: false,
      enableHttpsTrafficOnly: true,
    }, parent);
    for (const container of ['pulumi-state', 'leases', 'runs', 'deliveries', 'deployments']) {
      new storage.BlobContainer(`${name}-${container}`, {
        resourceGroupName: group.name, accountName: account.name, containerName: container,
        publicAccess: storage.PublicAccess.None,
      }, parent);
    }

    const vault = new keyvault.Vault(`${name}-kv`, {
      resourceGroupName: group.name,
      location: args.location,
      properties: {
        tenantId,
        sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        enablePurgeProtection: true,
      },
    }, parent);
    // The Pulumi secrets provider key (azurekeyvault://) for Nexus's stacks.
    const stateKey = new keyvault.Key(`${name}-pulumi-secrets`, {
      resourceGroupName: group.name, vaultName: vault.name, keyName: 'pulumi-secrets',
      properties: { kty: keyvault.JsonWebKeyType.RSA, keySize: 2048 },
    }, parent);

    const grant = (key: string, scope: pulumi.Input<string>, role: string) =>
      new authorization.RoleAssignment(`${name}-${key}`, {
        scope, principalId: identity.principalId, principalType: authorization.PrincipalType.ServicePrincipal,
        roleDefinitionId: roleId(scope, role),
      }, parent);
    grant('blob', account.id, BUILTIN_ROLES.storageBlobDataOwner);
    grant('table', account.id, BUILTIN_ROLES.storageTableDataContributor);
    grant('queue', account.id, BUILTIN_ROLES.storageQueueDataContributor);
    grant('kv-secrets', vault.id, BUILTIN_ROLES.keyVaultSecretsUser);
    grant('kv-crypto', vault.id, BUILTIN_ROLES.keyVaultCryptoUser);
    // What the compiled landing zones need at the managed root: groups, policy, role assignments.
    const mgScope = `/providers/Microsoft.Management/managementGroups/${args.managedRootMg}`;
    grant('mg-policy', mgScope, BUILTIN_ROLES.resourcePolicyContributor);
    grant('mg-uaa', mgScope, BUILTIN_ROLES.userAccessAdministrator);
    grant('mg-contrib', mgScope, BUILTIN_ROLES.managementGroupContributor);

    // Management-group events are in no subscription's Activity Log: the managed group streams its own
    // (Administrative and Policy) to a workspace Nexus queries for who changed policy and role resources.
    const workspace = new operationalinsights.Workspace(`${name}-log`, {
      resourceGroupName: group.name, location: args.location,
      sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
      retentionInDays: 90,
    }, parent);
    new monitor.ManagementGroupDiagnosticSetting(`${name}-mg-activity`, {
      managementGroupId: args.managedRootMg,
      name: 'nexus-activity-log',
      workspaceId: workspace.id,
      logs: ACTIVITY_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
    }, parent);
    grant('log-reader', workspace.id, BUILTIN_ROLES.logAnalyticsReader);

    const plan = new web.AppServicePlan(`${name}-plan`, {
      resourceGroupName: group.name, location: args.location, kind: 'linux', reserved: true,
      sku: { name: 'EP1', tier: 'ElasticPremium' },
    }, parent);
    const secretRef = (secret: string) => pulumi.interpolate`@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${secret}/)`;
    const app = new web.WebApp(`${name}-func`, {
      resourceGroupName: group.name,
      location: args.location,
      kind: 'functionapp,linux',
      serverFarmId: plan.id,
      httpsOnly: true,
      keyVaultReferenceIdentity: identity.id,
      identity: { type: web.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [identity.id] },
      siteConfig: {
        linuxFxVersion: 'NODE|20',
        minTlsVersion: web.SupportedTlsVersions.SupportedTlsVersions_1_2,
        ftpsState: web.FtpsState.Disabled,
        appSettings: [
          { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' },
          { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' },
          { name: 'AzureWebJobsStorage__accountName', value: account.name },
          { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' },
          { name: 'AzureWebJobsStorage__clientId', value: identity.clientId },
          { name: 'AZURE_CLIENT_ID', value: identity.clientId },
          // The names functions/ reads (see the README's "Point it at a real tenant").
          { name: 'NEXUS_STORAGE_ACCOUNT', value: account.name },
          { name: 'NEXUS_ROOT_MG', value: args.managedRootMg },
          { name: 'NEXUS_RESOURCE_BACKEND', value: 'azure-native' },
          { name: 'NEXUS_PULUMI_BACKEND_URL', value: 'azblob://pulumi-state' },
          { name: 'NEXUS_SECRETS_PROVIDER', value: pulumi.interpolate`azurekeyvault://${vault.name}.vault.azure.net/keys/${stateKey.name}` },
          { name: 'NEXUS_ENTRA_TENANT_ID', value: tenantId },
          { name: 'NEXUS_API_AUDIENCE', value: args.apiAudience ?? `api://nexus-${args.prefix}` },
          // Drift: the Activity Log's workspace (its customer id is the query API's workspace id), and
          // Nexus's own identity as change records name it (object id, or client id for some callers).
          { name: 'NEXUS_ACTIVITY_LOG_WORKSPACE_ID', value: workspace.customerId },
          { name: 'NEXUS_DRIFT_SELF_IDENTITIES', value: pulumi.interpolate`${identity.principalId},${identity.clientId}` },
          ...(args.roleGroups ? [{ name: 'NEXUS_ROLE_GROUPS', value: JSON.stringify(args.roleGroups) }] : []),
          { name: 'NEXUS_GITHUB_WEBHOOK_SECRET', value: secretRef('github-webhook-secret') },
          { name: 'NEXUS_ADO_WEBHOOK_SECRET', value: secretRef('ado-webhook-secret') },
          { name: 'NEXUS_ALERTS_WEBHOOK_SECRET', value: secretRef('alerts-webhook-secret') },
        ],
      },
    }, parent);

    this.functionAppUrl = pulumi.interpolate`https://${app.defaultHostName}`;
    this.storageAccountName = account.name;
    this.keyVaultUri = vault.properties.apply((p) => p.vaultUri ?? '');
    this.principalId = identity.principalId;
    this.registerOutputs({ functionAppUrl: this.functionAppUrl });
  }
}

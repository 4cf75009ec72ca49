// `pulumi up` in this folder deploys Nexus into the selected subscription.
import * as pulumi from '@pulumi/pulumi';
import { NexusPlatform } from './nexus-platform.ts';

const config = new pulumi.Config();
const platform = new NexusPlatform('nexus', {
  location: config.get('location') ?? 'westeurope',
  prefix: config.get('prefix') ?? 'nexus',
  managedRootMg: config.require('managedRootMg'),
  apiAudience: config.get('apiAudience'),
  roleGroups: config.getObject('roleGroups'),
});

export const functionAppUrl = platform.functionAppUrl;
export const storageAccount = platform.storageAccountName;
export const keyVaultUri = platform.keyVaultUri;
export const principalId = platform.principalId;

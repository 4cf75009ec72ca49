// Azure resource ids to catalog references, the same way from every source (Resource Graph, Pulumi
// state, alert targets), so one resource is one entity whoever reports it.
import { refKey, toEntityName, DEFAULT_NAMESPACE } from './refs.ts';

export interface ArmIdParts {
  subscription?: string;
  resourceGroup?: string;
  name: string;
  type?: string;
}

export function parseArmId(id: string): ArmIdParts {
  const parts = id.split('/').filter(Boolean);
  const at = (label: string) => {
    const i = parts.findIndex((p) => p.toLowerCase() === label);
    return i >= 0 ? parts[i + 1] : undefined;
  };
  const providers = parts.map((p) => p.toLowerCase()).lastIndexOf('providers');
  const type = providers >= 0 && parts.length > providers + 2
    ? [parts[providers + 1], ...parts.slice(providers + 2).filter((_, i) => i % 2 === 0)].join('/')
    : undefined;
  return { subscription: at('subscriptions')?.toLowerCase(), resourceGroup: at('resourcegroups'), name: parts[parts.length - 1] ?? id, type };
}

/**
 * `azureresource:<subscription id>/<resource group>.<name>-<hash of the id>`: readable, unique (the
 * hash tells apart same-named resources of different types) and stable for the same id in any casing.
 */
export function azureResourceRef(id: string): string {
  const p = parseArmId(id);
  const namespace = p.subscription && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(p.subscription) ? p.subscription : 'tenant';
  const readable = p.resourceGroup ? `${p.resourceGroup}.${p.name}` : p.name;
  return refKey({ kind: 'azureresource', namespace: namespace || DEFAULT_NAMESPACE, name: toEntityName(readable, { hashSuffix: true, hashOf: id.toLowerCase() }) });
}

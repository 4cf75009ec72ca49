// Seeds the tenant-level built-in policy definitions and set definitions (read-only) from the
// offline copy in ../shared/azure-builtin-policies, so assignments of built-ins resolve as in Azure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { key } from './arm-ids.ts';
import type { Tenant } from './tenant.ts';

export function defaultBuiltinsDir(env = process.env): string {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  return env.NEXUS_BUILTIN_POLICIES ?? resolve(repo, '../shared/azure-builtin-policies');
}

export function seedBuiltins(t: Tenant, dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  const kinds: [string, string][] = [
    ['policyDefinitions', 'Microsoft.Authorization/policyDefinitions'],
    ['policySetDefinitions', 'Microsoft.Authorization/policySetDefinitions'],
  ];
  const now = new Date(0).toISOString();
  for (const [folder, type] of kinds) {
    const path = join(dir, folder);
    if (!existsSync(path)) continue;
    for (const file of readdirSync(path).filter((f) => f.endsWith('.json'))) {
      let doc: { name?: string; properties?: Record<string, unknown> };
      try {
        doc = JSON.parse(readFileSync(join(path, file), 'utf8'));
      } catch (e) {
        throw new Error(`Built-in policy file ${join(path, file)} is not valid JSON: ${(e as Error).message}`);
      }
      const name = doc.name ?? file.replace(/\.json$/, '');
      const id = `/providers/${type}/${name}`;
      t.resources.set(key(id), {
        id, type, name, parent: '', builtIn: true, createdAt: now, updatedAt: now,
        body: { properties: { ...doc.properties, policyType: 'BuiltIn' } },
      });
      n++;
    }
  }
  return n;
}

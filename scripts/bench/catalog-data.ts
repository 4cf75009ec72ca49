// Catalog data for benchmarks and demos: N entities in a realistic mix (an organisation's teams and
// people, domains and systems, services with their repositories, pipelines, APIs and packages, Azure
// resources in environments, incidents and work items), deterministic for a given index, with owners,
// tags and relations between them (some to entities that do not exist, as in real catalogs).
//   entityAt(i, n)        the i-th of n entities (same input, same entity)
//   generateEntities(n)   all of them, teams and users first
//   loadCatalog(catalog, n)  writes them through CatalogService.bulkUpsert in chunks
//   searchTerms           words the data is made of, for search queries
import type { CatalogService } from '../../functions/catalog/service.ts';

export const searchTerms = ('billing payments checkout ledger fraud search catalog identity gateway inventory orders shipping ' +
  'pricing invoices accounts notifications analytics reporting storage queue events stream cache profile ' +
  'session audit compliance scheduler metrics logging tracing config secrets vault portal mobile web').split(' ');

const LANGS = ['java', 'go', 'dotnet', 'python', 'node', 'rust'];
const LIFECYCLES = ['production', 'production', 'production', 'experimental', 'deprecated'];
const REGIONS = ['westeurope', 'northeurope', 'eastus', 'swedencentral'];
const STAGES = ['development', 'test', 'staging', 'production'];
const AZURE_TYPES: Array<[string, string]> = [
  ['Microsoft.Web/sites', 'P1v3'], ['Microsoft.Sql/servers/databases', 'S2'], ['Microsoft.Storage/storageAccounts', 'Standard_LRS'],
  ['Microsoft.KeyVault/vaults', 'standard'], ['Microsoft.ContainerService/managedClusters', 'Standard_D4s_v5'],
  ['Microsoft.Cache/redis', 'C1'], ['Microsoft.ServiceBus/namespaces', 'Standard'], ['Microsoft.Network/virtualNetworks', ''],
];
const FIRST = ['ana', 'ben', 'chen', 'dara', 'eli', 'femi', 'gita', 'hugo', 'ines', 'jon', 'kai', 'lena', 'mo', 'nia', 'omar', 'pia'];
const LAST = ['smith', 'garcia', 'kim', 'novak', 'okafor', 'rossi', 'schmidt', 'tanaka', 'silva', 'khan'];

/** The mix, as shares of every 100 entities. */
const MIX: Array<[string, number]> = [
  ['Service', 18], ['Repository', 18], ['Pipeline', 12], ['AzureResource', 22], ['API', 6], ['Package', 8],
  ['WorkItem', 8], ['Incident', 3], ['User', 3], ['System', 1], ['Environment', 1],
];
const SLOTS = MIX.flatMap(([kind, n]) => Array<string>(n).fill(kind));

function rand(seed: number) {
  let s = (seed * 2654435761) >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Teams and domains scale with the catalog: about one team per 250 entities. */
export function teamCount(n: number): number {
  return Math.max(4, Math.round(n / 250));
}

function base(kind: string, name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'nexus/v1', kind, metadata: { name, ...extra } };
}

/** The i-th entity of a catalog of n (0 <= i < n). Indexes below teamCount(n) are Teams, then Domains. */
export function entityAt(i: number, n: number): Record<string, unknown> {
  const teams = teamCount(n);
  const domains = Math.max(2, Math.round(teams / 10));
  const r = rand(i + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const w1 = pick(searchTerms), w2 = pick(searchTerms);
  const team = `team-${i % teams}`;
  if (i < teams) {
    return {
      ...base('Team', `team-${i}`, { title: `${cap(w1)} ${cap(w2)} team`, description: `Builds and runs ${w1} and ${w2}` }),
      spec: { profile: { displayName: `${cap(w1)} ${cap(w2)}`, email: `team-${i}@contoso.example` }, ...(i >= domains ? { parent: `team-${i % domains}` } : {}), onCall: { primary: `${pick(FIRST)}.${pick(LAST)}`, schedule: `https://oncall.contoso.example/team-${i}` } },
    };
  }
  if (i < teams + domains) {
    const d = i - teams;
    return { ...base('Domain', `domain-${d}`, { title: `${cap(w1)} domain` }), spec: { owner: `team-${d % teams}` } };
  }
  const kind = SLOTS[i % SLOTS.length]!;
  const name = `${w1}-${w2}-${i}`;
  const tags = [pick(LANGS), ...(r() < 0.3 ? [pick(['pci', 'gdpr', 'tier-1', 'internal', 'public'])] : [])];
  const sibling = (k: string, j: number) => `${k}:${searchTerms[Math.floor(rand(j + 1)() * searchTerms.length)]}-${pickWord(j)}-${j}`;
  const near = (k: string) => {
    // A neighbour of the same kind a few slots away: most relations point at real entities, a few dangle.
    const j = i + SLOTS.length * (1 + Math.floor(r() * 3)) * (r() < 0.5 ? -1 : 1);
    return j > teams + domains && j < n * 1.02 ? sibling(k, j) : undefined;
  };
  const description = `${cap(w1)} ${w2} ${pick(searchTerms)} for the ${pick(searchTerms)} platform`;
  const meta = { description, tags };
  switch (kind) {
    case 'Service':
      return {
        ...base('Service', name, { ...meta, title: `${cap(w1)} ${cap(w2)} service` }),
        spec: {
          owner: team, lifecycle: pick(LIFECYCLES), tier: pick(['gold', 'silver', 'bronze']), language: tags[0],
          system: `system-${i % Math.max(1, Math.round(n / 100))}`,
          dependsOn: [near('service')].filter(Boolean), providesApis: [`api:${w1}-${w2}-api-${i}`],
          deployedTo: [`environment:env-${pick(STAGES)}-${i % 4}`],
        },
      };
    case 'Repository':
      return { ...base('Repository', name, meta), spec: { owner: team, url: `https://github.com/contoso/${name}`, provider: 'github', defaultBranch: 'main', visibility: pick(['private', 'internal']), language: tags[0] } };
    case 'Pipeline':
      return { ...base('Pipeline', name, meta), spec: { owner: team, provider: pick(['github-actions', 'azure-pipelines']), repository: near('repository'), lastRun: { id: String(i), status: 'completed', result: pick(['success', 'success', 'failure']), branch: 'main' } } };
    case 'AzureResource': {
      const [type, sku] = pick(AZURE_TYPES);
      return {
        ...base('AzureResource', name, meta),
        spec: { owner: team, type, ...(sku ? { sku } : {}), region: pick(REGIONS), subscription: `sub-${i % 12}`, resourceGroup: `rg-${w1}`, tags: { environment: pick(STAGES), costCenter: `cc-${i % 40}` }, health: pick(['Available', 'Available', 'Degraded', 'Unknown']), cost: { monthly: Math.round(r() * 2000), currency: 'EUR' } },
      };
    }
    case 'API':
      return { ...base('API', name, meta), spec: { owner: team, type: pick(['openapi', 'grpc', 'asyncapi', 'graphql']), lifecycle: pick(LIFECYCLES), version: `v${1 + (i % 3)}`, authScheme: pick(['oauth2', 'mtls', 'apiKey']), sla: { availability: pick(['99.9', '99.95', '99.99']) } } };
    case 'Package':
      return { ...base('Package', name, meta), spec: { owner: team, version: `${1 + (i % 4)}.${i % 20}.${i % 7}`, ecosystem: pick(['npm', 'nuget', 'maven', 'pypi']), license: pick(['MIT', 'Apache-2.0', 'proprietary']), ...(r() < 0.1 ? { cves: [{ id: `CVE-2026-${1000 + (i % 9000)}`, severity: pick(['critical', 'high', 'medium', 'low']) }] } : {}) } };
    case 'WorkItem':
      return { ...base('WorkItem', `wi-${i}`, { title: `${cap(w1)} ${w2} needs attention` }), spec: { owner: team, type: pick(['Bug', 'User Story', 'Task']), state: pick(['New', 'Active', 'Resolved', 'Closed']), sprint: `Sprint ${i % 26}`, assignee: `${pick(FIRST)} ${pick(LAST)}`, title: `${cap(w1)} ${w2} needs attention` } };
    case 'Incident': {
      const opened = new Date(Date.UTC(2026, 0, 1) + i * 600_000).toISOString();
      const resolved = r() < 0.8;
      return { ...base('Incident', `inc-${i}`, { title: `${cap(w1)} ${w2} degraded` }), spec: { owner: team, severity: pick(['critical', 'high', 'medium', 'low']), status: resolved ? 'resolved' : pick(['open', 'acknowledged']), opened, ...(resolved ? { resolved: new Date(Date.parse(opened) + 3_600_000).toISOString() } : {}), provider: pick(['pagerduty', 'opsgenie', 'azure-monitor']), affects: [near('service')].filter(Boolean) } };
    }
    case 'User': {
      const u = `${pick(FIRST)}.${pick(LAST)}.${i}`;
      return { ...base('User', u), spec: { profile: { displayName: u, email: `${u}@contoso.example` }, memberOf: [team] } };
    }
    case 'System':
      return { ...base('System', `system-${Math.floor(i / SLOTS.length) % Math.max(1, Math.round(n / 100))}`, { title: `${cap(w1)} system` }), spec: { owner: team, domain: `domain-${i % domains}` } };
    default:
      return { ...base('Environment', `env-${pick(STAGES)}-${i % 4}`), spec: { owner: team, stage: pick(STAGES), region: pick(REGIONS) } };
  }
}

function pickWord(j: number): string {
  const r = rand(j + 1);
  r();
  return searchTerms[Math.floor(r() * searchTerms.length)]!;
}

function cap(s: string): string {
  return s[0]!.toUpperCase() + s.slice(1);
}

/** All n entities, without duplicate names (a few generated names repeat and are skipped). */
export function* generateEntities(n: number): Generator<Record<string, unknown>> {
  const seen = new Set<string>();
  for (let i = 0; seen.size < n && i < n * 2; i++) {
    const e = entityAt(i, n);
    const key = `${String(e.kind).toLowerCase()}:${(e.metadata as { name: string }).name.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    yield e;
  }
}

/** The API path of an entity: /api/v1/entities/{kind}/{namespace}/{name}. */
export function entityPath(e: Record<string, unknown>): string {
  return `/api/v1/entities/${String(e.kind).toLowerCase()}/default/${(e.metadata as { name: string }).name}`;
}

/** Loads n entities through bulkUpsert, in chunks; skips the load when the catalog already holds them. */
export async function loadCatalog(catalog: CatalogService, n: number, opts: { chunk?: number; log?: (msg: string) => void } = {}): Promise<number> {
  if (catalog.index.size >= n) return 0;
  const chunk = opts.chunk ?? 2000;
  let buf: Record<string, unknown>[] = [];
  let written = 0;
  const started = Date.now();
  for (const e of generateEntities(n)) {
    buf.push(e);
    if (buf.length === chunk) {
      written += (await catalog.bulkUpsert(buf, { name: 'bench', scope: 'bench' })).written;
      buf = [];
      opts.log?.(`${written} entities (${Math.round(written / ((Date.now() - started) / 1000))}/s)`);
    }
  }
  if (buf.length) written += (await catalog.bulkUpsert(buf, { name: 'bench', scope: 'bench' })).written;
  return written;
}

// `node --import tsx scripts/bench/catalog-data.ts 5` prints a sample as JSON lines.
if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 10);
  for (const e of generateEntities(n)) process.stdout.write(JSON.stringify(e) + '\n');
}

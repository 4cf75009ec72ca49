// GitHub deployments and deployment statuses: each lands on the Environment it names and on the
// repository's Service, found by its `github.com/project-slug` claim. A Service that merely has the
// repository's name, but was written by someone else, never receives them.
import { parseRef, refKey, toEntityName } from '../refs.ts';
import type { Entity, SourceInfo } from '../kinds.ts';
import { sourcesOfEntity, type CatalogService } from '../service.ts';

/**
 * Backstage's location-key rule for catalog files pushed to a repository: an existing entity may
 * be taken over only when everything that wrote it was this same repository (its events or its
 * files); an entity any other source holds (another repository, the API, an import, Azure) stays.
 */
export function heldOutside(repoFullName: string): (existing: Entity) => string[] {
  const repo = repoFullName.toLowerCase();
  return (existing) => Object.values(sourcesOfEntity(existing))
    .filter((s) => !(s.scope === `repo:${repo}` || s.scope?.startsWith(`file:${repo}/`)))
    .map((s) => (s.scope ? `${s.name} ${s.scope}` : s.name));
}

/**
 * The Service a repository's deployments belong to: of those whose `github.com/project-slug` names
 * it, the one this repository's own ingestion wrote (its catalog files), then another GitHub
 * source's, then the oldest claim. Only Admin and ingestion set the slug (api/write-rules.ts), but a
 * claim written elsewhere must never take deployments away from the entity ingestion owns.
 */
export function serviceOfSlug(catalog: CatalogService, fullName: string): string | undefined {
  const slug = fullName.toLowerCase();
  const rank = (e: Entity): number => {
    const sources = Object.values(sourcesOfEntity(e)).filter((s) => s.name === 'github' && !s.gone);
    if (sources.some((s) => s.scope === `repo:${slug}` || s.scope?.startsWith(`file:${slug}/`))) return 0;
    return sources.length ? 1 : 2;
  };
  const candidates = catalog.index.keysWhere((i) => i.entity.kind === 'Service' && i.entity.metadata.annotations?.['github.com/project-slug']?.toLowerCase() === slug)
    .map((key) => { const e = catalog.index.entity(key)!; return { key, rank: rank(e), created: e.status?.createdAt ?? '' }; });
  candidates.sort((a, b) => a.rank - b.rank || a.created.localeCompare(b.created) || a.key.localeCompare(b.key));
  return candidates[0]?.key;
}

function stageOf(env: string): string {
  const e = env.toLowerCase();
  if (/prod/.test(e)) return 'production';
  if (/stag|pre-?prod|uat/.test(e)) return 'staging';
  if (/test|qa/.test(e)) return 'test';
  if (/dev/.test(e)) return 'development';
  return e;
}

interface Repo { name: string; full_name: string }

/**
 * Records a deployment (or its status) and returns the keys written. Without a claimed Service,
 * one named after the repository is created, unless an entity of that name is held by another
 * source (a Developer's PUT, an import): then the deployment is kept on the Repository and a
 * finding says why, so nothing is lost and nothing reaches the squatter.
 */
export async function onDeployment(
  catalog: CatalogService, event: string, p: Record<string, any>, repo: Repo, repoKey: string, source: SourceInfo,
  out: { findings?: string[] },
): Promise<string[]> {
  const dep = p.deployment as Record<string, any>;
  const status = p.deployment_status as Record<string, any> | undefined;
  const envName = String(status?.environment ?? dep.environment);
  const envKey = refKey({ kind: 'environment', namespace: 'default', name: toEntityName(envName) });
  await catalog.upsert({
    apiVersion: 'nexus/v1', kind: 'Environment',
    metadata: { name: toEntityName(envName), namespace: 'default', title: envName },
    spec: { stage: stageOf(envName) },
  }, source, { mode: 'merge' });
  const claimed = serviceOfSlug(catalog, repo.full_name);
  let target = claimed ?? refKey({ kind: 'service', namespace: parseRef(repoKey).namespace, name: toEntityName(repo.name) });
  if (!claimed) {
    const named = catalog.index.entity(target);
    const others = named ? heldOutside(repo.full_name)(named) : [];
    if (others.length) {
      (out.findings ??= []).push(`${target} is held by ${others.join(', ')}, not by ${repo.full_name}: its deployment to ${envName} is kept on ${repoKey}`);
      target = repoKey;
    } else {
      const { namespace, name } = parseRef(target);
      await catalog.upsert({
        apiVersion: 'nexus/v1', kind: 'Service',
        metadata: { name, namespace, annotations: { 'github.com/project-slug': repo.full_name } },
        spec: { repository: repoKey },
      }, source, { mode: 'merge' });
    }
  }
  const state = event === 'deployment' ? 'pending' : String(status!.state);
  const record = {
    state, sha: dep.sha, at: status?.updated_at ?? dep.updated_at ?? dep.created_at,
    ...((status?.environment_url || status?.target_url) ? { url: status.environment_url || status.target_url } : {}),
  };
  await catalog.update(target, (cur) => {
    const deployments = { ...(cur.spec.deployments as Record<string, unknown> | undefined), [envName]: record };
    // A Repository has no environments of its own: only a Service is deployedTo them.
    if (cur.kind !== 'Service') return { ...cur, spec: { ...cur.spec, deployments } };
    const deployedTo = [...new Set([...((cur.spec.deployedTo as string[] | undefined) ?? []), envKey])].sort();
    return { ...cur, spec: { ...cur.spec, deployedTo, deployments } };
  }, source);
  return [envKey, target];
}

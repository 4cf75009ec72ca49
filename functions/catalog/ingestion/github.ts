// GitHub webhook events into the catalog: repository, push, pull_request, workflow_run, deployment and
// deployment_status create and update Repository, Pipeline, Service and Environment entities, and
// catalog-info.yaml / CODEOWNERS files in pushed commits are fetched (through an Octokit) and imported.
import { parseRef, refKey, toEntityName, toNamespace } from '../refs.ts';
import { parseCodeowners } from '../ownership.ts';
import type { Entity, SourceInfo } from '../kinds.ts';
import { sourcesOfEntity, type CatalogService } from '../service.ts';
import { importCatalogFile } from './catalog-file.ts';
import { globMatch } from '../../platform/glob.ts';
import { heldOutside, onDeployment } from './github-deployments.ts';

import { gitHubContentReader, readRepoFile as readFile, type GitHubContentPort } from './github-content.ts';

export type { GitHubContentPort } from './github-content.ts';

export interface GitHubDeps {
  catalog: CatalogService;
  /** Reads files of pushed commits; without it catalog-info.yaml and CODEOWNERS changes are skipped. */
  github?: GitHubContentPort;
  /**
   * Repositories (`owner/repo`, `*` globs) whose catalog files may define Teams and Users;
   * NEXUS_CATALOG_TRUSTED_REPOS (config.catalog.trustedRepos); none when absent.
   */
  trustedRepos?: readonly string[];
}

export const TRUSTED_REPOS_ENV = 'NEXUS_CATALOG_TRUSTED_REPOS';

/**
 * NEXUS_CATALOG_TRUSTED_REPOS: comma-separated `owner/repo` patterns (`*` matches any run of
 * characters, e.g. `contoso/platform-*`), case-insensitive. Empty or unset: no repository is trusted.
 */
export function trustedCatalogRepos(env: Readonly<Record<string, string | undefined>>): string[] {
  const list = (env[TRUSTED_REPOS_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) {
    if (!/^[A-Za-z0-9_.*-]+\/[A-Za-z0-9_.*-]+$/.test(p)) throw new Error(`${TRUSTED_REPOS_ENV}: "${p}" is not owner/repo (globs with * allowed)`);
  }
  return list;
}

/** Whether a repository (`owner/repo`) matches one of the trusted patterns. */
export function isTrustedRepo(fullName: string, patterns: readonly string[]): boolean {
  const name = fullName.toLowerCase();
  return patterns.some((p) => globMatch(p, name));
}

/**
 * Teams and Users say who someone is and what they own (a Team's members and Entra group get
 * its rights; a User's object id is whose sign-in it is): a pushed file may define them only
 * from a trusted catalog repository, or anyone could create `User bob` with their own object id.
 */
function identityRefusal(repoFullName: string, trusted: readonly string[]): (e: Entity) => string | undefined {
  if (isTrustedRepo(repoFullName, trusted)) return () => undefined;
  return (e) => (e.kind === 'Team' || e.kind === 'User')
    ? `a ${e.kind} is accepted only from a trusted catalog repository (${TRUSTED_REPOS_ENV}); ${repoFullName} is not one`
    : undefined;
}

export interface GitHubDelivery {
  event: string;
  deliveryId: string;
  payload: unknown;
}

export interface IngestOutcome {
  /** Keys of entities written. */
  upserted: string[];
  orphaned: string[];
  /** Files and reasons for what was not imported (still an outcome, not a failure). */
  skipped: string[];
  /**
   * What someone should look at: e.g. a catalog file defining an entity another repository or
   * source holds (not overwritten). The inbox keeps these on the delivery.
   */
  findings?: string[];
}

export { heldOutside, serviceOfSlug } from './github-deployments.ts';

interface Repo {
  name: string;
  full_name: string;
  owner: { login: string };
  html_url?: string;
  description?: string | null;
  default_branch?: string;
  visibility?: string;
  private?: boolean;
  language?: string | null;
  topics?: string[];
  archived?: boolean;
}

const CATALOG_FILE = /(^|\/)catalog-info\.ya?ml$/;
const CODEOWNERS_PATHS = ['CODEOWNERS', '.github/CODEOWNERS', 'docs/CODEOWNERS'];

export function repositoryRef(repo: { name: string; owner: { login: string } }): string {
  return refKey({ kind: 'repository', namespace: toNamespace(repo.owner.login), name: toEntityName(repo.name) });
}

function nameOf(key: string): { namespace: string; name: string } {
  const r = parseRef(key);
  return { namespace: r.namespace, name: r.name };
}

export async function handleGitHubEvent(deps: GitHubDeps, d: GitHubDelivery): Promise<IngestOutcome> {
  const out: IngestOutcome = { upserted: [], orphaned: [], skipped: [] };
  const p = d.payload as Record<string, any>;
  const repo = p?.repository as Repo | undefined;
  if (!repo?.full_name) {
    out.skipped.push(`${d.event}: no repository in the payload`);
    return out;
  }
  const { catalog } = deps;
  const source: SourceInfo = { name: 'github', scope: `repo:${repo.full_name.toLowerCase()}`, ref: d.deliveryId, actor: p.sender?.login };
  const repoKey = repositoryRef(repo);

  if (d.event === 'repository' && p.action === 'deleted') {
    await catalog.upsert(repositoryEntity(repo), source, { mode: 'merge' });
    const gone = await catalog.markGone(repoKey, source);
    if (gone?.status?.orphaned) out.orphaned.push(repoKey);
    return out;
  }
  const stored = await catalog.upsert(repositoryEntity(repo), source, { mode: 'merge' });
  out.upserted.push(repoKey);

  switch (d.event) {
    case 'repository': {
      // A rename or transfer leaves the old name behind: orphan it rather than delete it.
      const oldName = p.changes?.repository?.name?.from as string | undefined;
      const oldOwner = (p.changes?.owner?.from?.user?.login ?? p.changes?.owner?.from?.organization?.login) as string | undefined;
      if (oldName || oldOwner) {
        const oldKey = repositoryRef({ name: oldName ?? repo.name, owner: { login: oldOwner ?? repo.owner.login } });
        if (oldKey !== repoKey && (await catalog.get(oldKey))) {
          const oldScope = `repo:${(oldOwner ?? repo.owner.login).toLowerCase()}/${(oldName ?? repo.name).toLowerCase()}`;
          const gone = await catalog.markGone(oldKey, { ...source, scope: oldScope });
          if (gone?.status?.orphaned) out.orphaned.push(oldKey);
        }
      }
      break;
    }
    case 'push':
      await onPush(deps, p, repo, stored, source, out);
      break;
    case 'pull_request':
      await onPullRequest(catalog, p, repoKey, source);
      break;
    case 'workflow_run':
      out.upserted.push(await onWorkflowRun(catalog, p, repo, repoKey, source));
      break;
    case 'deployment':
    case 'deployment_status':
      out.upserted.push(...(await onDeployment(catalog, d.event, p, repo, repoKey, source, out)));
      break;
    default:
      out.skipped.push(`${d.event}: not a catalog event`);
  }
  return out;
}

function repositoryEntity(repo: Repo): Record<string, unknown> {
  const { namespace, name } = nameOf(repositoryRef(repo));
  return {
    apiVersion: 'nexus/v1',
    kind: 'Repository',
    metadata: {
      name,
      namespace,
      title: repo.full_name,
      ...(repo.description ? { description: repo.description } : {}),
      annotations: { 'github.com/project-slug': repo.full_name },
    },
    spec: {
      provider: 'github',
      url: repo.html_url,
      defaultBranch: repo.default_branch,
      visibility: repo.visibility ?? (repo.private ? 'private' : 'public'),
      ...(repo.language ? { language: repo.language } : {}),
      ...(repo.topics?.length ? { topics: repo.topics } : {}),
      archived: Boolean(repo.archived),
    },
  };
}

async function onPush(deps: GitHubDeps, p: Record<string, any>, repo: Repo, stored: Entity, source: SourceInfo, out: IngestOutcome): Promise<void> {
  const { catalog } = deps;
  const repoKey = repositoryRef(repo);
  const head = p.head_commit as { timestamp?: string } | null;
  await catalog.update(repoKey, (cur) => ({
    ...cur,
    spec: { ...cur.spec, lastPush: { ref: p.ref, sha: p.after, ...(head?.timestamp ? { at: head.timestamp } : {}), ...(p.pusher?.name ? { pusher: p.pusher.name } : {}) } },
  }), source);

  // Only the default branch describes the catalog; feature branches are previews.
  const branch = repo.default_branch ?? 'main';
  if (p.ref !== `refs/heads/${branch}` || p.deleted) return;
  const changed = new Set<string>();
  const removed = new Set<string>();
  for (const c of (p.commits ?? []) as Array<{ added?: string[]; modified?: string[]; removed?: string[] }>) {
    for (const f of [...(c.added ?? []), ...(c.modified ?? [])]) { changed.add(f); removed.delete(f); }
    for (const f of c.removed ?? []) { removed.add(f); changed.delete(f); }
  }
  const [owner, name] = repo.full_name.split('/') as [string, string];
  const fileScope = (path: string) => `file:${repo.full_name.toLowerCase()}/${path}`;

  for (const path of [...changed].filter((f) => CODEOWNERS_PATHS.includes(f))) {
    if (!deps.github) { out.skipped.push(`${path}: no GitHub client to read it`); continue; }
    const text = await readFile(deps.github, { owner, repo: name, path, ref: p.after });
    const rules = parseCodeowners(text);
    await catalog.update(repoKey, (cur) => ({ ...cur, spec: { ...cur.spec, codeowners: rules } }), source);
    // Owners that came from CODEOWNERS follow the new file.
    for (const k of catalog.index.keysWhere((i) => i.declared.some((r) => r.type === 'builtFrom' && r.target === repoKey) && i.entity.status?.ownerSource !== 'owner')) {
      await catalog.update(k, (cur) => cur);
      out.upserted.push(k);
    }
  }

  for (const path of [...changed].filter((f) => CATALOG_FILE.test(f))) {
    if (!deps.github) { out.skipped.push(`${path}: no GitHub client to read it`); continue; }
    const text = await readFile(deps.github, { owner, repo: name, path, ref: p.after });
    const res = await importCatalogFile(catalog, text, {
      fileName: path,
      source: { ...source, name: 'github', scope: fileScope(path) },
      annotations: { 'github.com/project-slug': repo.full_name, 'backstage.io/managed-by-location': `url:${repo.html_url ?? repo.full_name}/blob/${branch}/${path}` },
      specDefaults: { repository: repoKey },
      heldElsewhere: heldOutside(repo.full_name),
      refuse: identityRefusal(repo.full_name, deps.trustedRepos ?? []),
      // Placeholders read the same commit of the same repository (root: the repository's top).
      content: gitHubContentReader(deps.github, { owner, repo: name, ref: p.after }),
      root: '',
    });
    for (const r of res.refused) {
      const msg = `${path}: ${r.ref ?? `${r.file}[document ${r.document}]`} not imported from ${repo.full_name}: ${r.reason}`;
      console.warn(`[catalog] github delivery ${source.ref}: ${msg}`);
      (out.findings ??= []).push(msg);
    }
    for (const c of res.conflicts) {
      const msg = `${path}: ${c.ref} is held by ${c.heldBy.join(', ')}; not overwritten from ${repo.full_name}`;
      console.warn(`[catalog] github delivery ${source.ref}: ${msg}`);
      (out.findings ??= []).push(msg);
    }
    for (const u of res.unresolved) (out.findings ??= []).push(`${path}: ${u.ref} ${u.field}: ${u.placeholder} ${u.target} unresolved: ${u.reason}`);
    if (res.orphaningSkipped) (out.findings ??= []).push(`${path}: ${res.orphaningSkipped}`);
    out.upserted.push(...res.entities.map((e) => refKey({ kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name })));
    out.orphaned.push(...res.orphaned);
    out.skipped.push(...res.locations.map((l) => `${path}: Location target ${l} not followed`));
  }
  for (const path of [...removed].filter((f) => CATALOG_FILE.test(f))) {
    out.orphaned.push(...(await catalog.markMissing({ ...source, scope: fileScope(path) }, [])));
  }
  void stored;
}

async function onPullRequest(catalog: CatalogService, p: Record<string, any>, repoKey: string, source: SourceInfo): Promise<void> {
  const pr = p.pull_request as Record<string, any>;
  const open = pr.state === 'open' && p.action !== 'closed';
  await catalog.update(repoKey, (cur) => {
    const list = ((cur.spec.openPullRequests as Array<{ number: number }> | undefined) ?? []).filter((x) => x.number !== pr.number);
    if (open) {
      list.push({
        number: pr.number, title: pr.title, author: pr.user?.login, url: pr.html_url, branch: pr.head?.ref,
        openedAt: pr.created_at, draft: Boolean(pr.draft),
      } as { number: number });
    }
    list.sort((a, b) => a.number - b.number);
    return { ...cur, spec: { ...cur.spec, openPullRequests: list } };
  }, source);
}

async function onWorkflowRun(catalog: CatalogService, p: Record<string, any>, repo: Repo, repoKey: string, source: SourceInfo): Promise<string> {
  const run = p.workflow_run as Record<string, any>;
  const path = String(run.path ?? p.workflow?.path ?? `workflow-${run.workflow_id}`);
  const file = path.split('/').pop()!.replace(/\.ya?ml$/, '');
  const namespace = nameOf(repoKey).namespace;
  const name = toEntityName(`${repo.name}-${file}`);
  await catalog.upsert({
    apiVersion: 'nexus/v1',
    kind: 'Pipeline',
    metadata: { name, namespace, title: run.name || p.workflow?.name || file, annotations: { 'github.com/project-slug': repo.full_name } },
    spec: {
      provider: 'github-actions',
      repository: repoKey,
      path,
      definitionId: String(run.workflow_id),
      url: p.workflow?.html_url ?? `${repo.html_url}/actions`,
      lastRun: {
        id: String(run.id), status: String(run.status), ...(run.conclusion ? { result: String(run.conclusion) } : {}),
        branch: run.head_branch ?? undefined, sha: run.head_sha, at: run.updated_at, url: run.html_url, number: String(run.run_number),
      },
    },
  }, source, { mode: 'merge' });
  return refKey({ kind: 'pipeline', namespace, name });
}

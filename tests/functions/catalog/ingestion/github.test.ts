import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { Octokit } from '@octokit/rest';
import { randomBytes } from 'node:crypto';
import { freshCatalog, freshTables } from '../fresh.ts';
import { Inbox } from '../../../../functions/catalog/inbox.ts';
import { catalogHandlers } from '../../../../functions/catalog/handlers.ts';
import { CatalogService as Catalog } from '../../../../functions/catalog/service.ts';
import { startGitHubStandIn, type GitHubStandIn } from './github-standin.ts';
import { handleGitHubEvent, isTrustedRepo, trustedCatalogRepos } from '../../../../functions/catalog/ingestion/github.ts';
import type { Entity } from '../../../../functions/catalog/kinds.ts';
import type { CatalogService } from '../../../../functions/catalog/service.ts';

// GitHub's own example payloads, as published in @octokit/webhooks-examples.
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, any>> }>;
function example(name: string, pick: (p: Record<string, any>) => boolean = () => true): Record<string, any> {
  const found = examples.find((e) => e.name === name)!.examples.find(pick);
  if (!found) throw new Error(`no ${name} example`);
  return structuredClone(found);
}

let standIn: GitHubStandIn;
test.before(async () => { standIn = await startGitHubStandIn(); });
test.after(async () => { await standIn.close(); });

let n = 0;
async function deliver(catalog: CatalogService, event: string, payload: unknown, trustedRepos: string[] = []) {
  const github = new Octokit({ baseUrl: standIn.url, request: { retries: 0 } }).rest;
  return handleGitHubEvent({ catalog, github, trustedRepos }, { event, deliveryId: `delivery-${++n}`, payload });
}

function both(a: Entity | undefined, type: string, b: Entity | undefined, inverse: string) {
  assert.ok(a && b, 'both entities exist');
  const aKey = `${a!.kind.toLowerCase()}:${a!.metadata.namespace}/${a!.metadata.name.toLowerCase()}`;
  const bKey = `${b!.kind.toLowerCase()}:${b!.metadata.namespace}/${b!.metadata.name.toLowerCase()}`;
  assert.ok(a!.relations.some((r) => r.type === type && r.targetRef === bKey && r.resolved), `${aKey} ${type} ${bKey}`);
  assert.ok(b!.relations.some((r) => r.type === inverse && r.targetRef === aKey && r.resolved), `${bKey} ${inverse} ${aKey}`);
}

test('repository events create and update the Repository; a deleted one is orphaned, not removed', async () => {
  const catalog = await freshCatalog();
  await deliver(catalog, 'repository', example('repository', (p) => p.action === 'created'));
  const repo = await catalog.get('repository:octocoders/hello-world');
  assert.is(repo?.metadata.title, 'Octocoders/Hello-World');
  assert.is(repo?.spec.url, 'https://github.com/Octocoders/Hello-World');
  assert.is(repo?.spec.provider, 'github');
  assert.is(repo?.metadata.annotations?.['github.com/project-slug'], 'Octocoders/Hello-World');
  assert.is(repo?.status?.source.name, 'github');
  const edited = example('repository', (p) => p.action === 'edited' && !!p.changes.default_branch);
  await deliver(catalog, 'repository', edited);
  assert.is((await catalog.get('repository:octocoders/hello-world'))?.spec.defaultBranch, edited.repository.default_branch);
  const renamed = example('repository', (p) => p.action === 'renamed');
  renamed.changes.repository.name.from = 'Hello-World';
  renamed.repository.name = 'Hello-World-2';
  renamed.repository.full_name = 'Octocoders/Hello-World-2';
  await deliver(catalog, 'repository', renamed);
  assert.is((await catalog.get('repository:octocoders/hello-world'))?.status?.orphaned, true);
  assert.ok(await catalog.get('repository:octocoders/hello-world-2'));
  const deleted: Record<string, any> = { ...example('repository', (p) => p.action === 'created'), action: 'deleted' };
  deleted.repository = renamed.repository;
  const out = await deliver(catalog, 'repository', deleted);
  assert.equal(out.orphaned, ['repository:octocoders/hello-world-2']);
  assert.is((await catalog.get('repository:octocoders/hello-world-2', { consistent: true }))?.status?.orphaned, true);
});

test('workflow_run creates a Pipeline built from its Repository, both directions', async () => {
  const catalog = await freshCatalog();
  const payload = example('workflow_run', (p) => p.action === 'completed' && p.repository.full_name === 'octo-org/octo-repo');
  await deliver(catalog, 'workflow_run', payload);
  const pipeline = await catalog.get('pipeline:octo-org/octo-repo-test');
  assert.is(pipeline?.spec.provider, 'github-actions');
  assert.is(pipeline?.spec.path, '.github/workflows/test.yml');
  assert.equal(pipeline?.spec.lastRun, {
    id: String(payload.workflow_run.id), status: 'completed', result: 'success', branch: payload.workflow_run.head_branch,
    sha: payload.workflow_run.head_sha, at: payload.workflow_run.updated_at, url: payload.workflow_run.html_url, number: String(payload.workflow_run.run_number),
  });
  both(pipeline, 'builtFrom', await catalog.get('repository:octo-org/octo-repo'), 'builds');
  const rows = await catalog.relations('repository:octo-org/octo-repo');
  assert.equal(rows.map((r) => `${r.type} ${r.targetRef}`), ['builds pipeline:octo-org/octo-repo-test']);
  // A later run of the same workflow updates the same Pipeline.
  const requested = example('workflow_run', (p) => p.action === 'requested');
  await deliver(catalog, 'workflow_run', requested);
  assert.is((await catalog.get('pipeline:octo-org/octo-repo-test'))?.spec.lastRun && ((await catalog.get('pipeline:octo-org/octo-repo-test'))!.spec.lastRun as { status: string }).status, requested.workflow_run.status);
  assert.is((await catalog.list({ kind: 'Pipeline', limit: 10 })).items.length, 1);
});

test('deployment and deployment_status give a Service deployed to an Environment', async () => {
  const catalog = await freshCatalog();
  await deliver(catalog, 'deployment', example('deployment'));
  let svc = await catalog.get('service:codertocat/hello-world');
  assert.equal((svc?.spec.deployments as Record<string, { state: string }>).production.state, 'pending');
  const status = example('deployment_status', (p) => p.deployment_status.state === 'success');
  await deliver(catalog, 'deployment_status', status);
  svc = await catalog.get('service:codertocat/hello-world');
  assert.equal((svc?.spec.deployments as Record<string, { state: string; sha: string }>).production, {
    state: 'success', sha: status.deployment.sha, at: status.deployment_status.updated_at,
  });
  const env = await catalog.get('environment:default/production');
  assert.is(env?.spec.stage, 'production');
  both(svc, 'deployedTo', env, 'hosts');
  both(svc, 'builtFrom', await catalog.get('repository:codertocat/hello-world'), 'builds');
  await deliver(catalog, 'deployment_status', example('deployment_status', (p) => p.deployment_status.environment === 'github-pages'));
  svc = await catalog.get('service:codertocat/hello-world');
  assert.equal(svc?.spec.deployedTo, ['environment:default/github-pages', 'environment:default/production']);
  assert.is(((svc?.spec.deployments as Record<string, { url?: string }>)['github-pages'])?.url, 'https://github.com/Codertocat/Hello-World/runs/145988746?check_suite_focus=true');
});

test('pull_request keeps the Repository\'s open pull requests', async () => {
  const catalog = await freshCatalog();
  const opened = example('pull_request', (p) => p.action === 'opened');
  await deliver(catalog, 'pull_request', opened);
  const prs = (await catalog.get('repository:codertocat/hello-world'))?.spec.openPullRequests as Array<Record<string, unknown>>;
  assert.equal(prs, [{
    number: 2, title: opened.pull_request.title, author: 'Codertocat', url: opened.pull_request.html_url,
    branch: 'changes', openedAt: opened.pull_request.created_at, draft: false,
  }]);
  await deliver(catalog, 'pull_request', example('pull_request', (p) => p.action === 'closed'));
  assert.equal((await catalog.get('repository:codertocat/hello-world'))?.spec.openPullRequests, []);
});

const CATALOG_INFO = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hello-world
  description: Says hello
spec:
  type: service
  lifecycle: production
  owner: greeters
---
apiVersion: nexus/v1
kind: Service
metadata:
  name: hello-worker
spec:
  lifecycle: experimental
`;

test('catalog-info.yaml and CODEOWNERS in pushed commits are fetched and imported; removal orphans', async () => {
  const catalog = await freshCatalog();
  const push = example('push', (p) => p.ref === 'refs/heads/master' && p.commits.length === 1);
  push.commits[0].added = ['README.md', 'catalog-info.yaml'];
  push.commits[0].modified = ['.github/CODEOWNERS'];
  standIn.files.set(`Codertocat/Hello-World@${push.after}:catalog-info.yaml`, CATALOG_INFO);
  standIn.files.set(`Codertocat/Hello-World@${push.after}:.github/CODEOWNERS`, '# owners\n*  @codertocat/workers\n/docs/ @codertocat/writers\n');
  const out = await deliver(catalog, 'push', push);
  assert.ok(standIn.requests.some((r) => r.startsWith('GET /repos/Codertocat/Hello-World/contents/catalog-info.yaml?ref=')));
  assert.ok(out.upserted.includes('service:default/hello-world'));
  const repo = await catalog.get('repository:codertocat/hello-world');
  assert.equal(repo?.spec.codeowners, [{ pattern: '*', owners: ['@codertocat/workers'] }, { pattern: '/docs/', owners: ['@codertocat/writers'] }]);
  assert.equal(repo?.spec.lastPush, { ref: 'refs/heads/master', sha: push.after, at: push.head_commit.timestamp, pusher: 'Codertocat' });
  const hello = await catalog.get('service:hello-world');
  assert.equal([hello?.status?.owner, hello?.status?.ownerSource], ['team:default/greeters', 'owner']);
  assert.is(hello?.metadata.annotations?.['github.com/project-slug'], 'Codertocat/Hello-World');
  both(hello, 'builtFrom', repo, 'builds');
  // No owner of its own: CODEOWNERS of the repository decides.
  const worker = await catalog.get('service:hello-worker');
  assert.equal([worker?.status?.owner, worker?.status?.ownerSource], ['team:default/workers', 'codeowners']);
  assert.is((await catalog.search('hello')).total >= 2, true);

  // A later push removes the file: its entities are orphaned, kept.
  const removal = structuredClone(push);
  removal.after = 'f'.repeat(40);
  removal.commits[0].added = [];
  removal.commits[0].modified = [];
  removal.commits[0].removed = ['catalog-info.yaml'];
  const out2 = await deliver(catalog, 'push', removal);
  assert.equal(out2.orphaned.sort(), ['service:default/hello-worker', 'service:default/hello-world']);
  assert.is((await catalog.get('service:hello-world'))?.status?.orphaned, true);
});

test('pushes to other branches and tags import nothing', async () => {
  const catalog = await freshCatalog();
  const tag = example('push', (p) => p.ref === 'refs/tags/simple-tag');
  const before = standIn.requests.length;
  await deliver(catalog, 'push', tag);
  assert.is(standIn.requests.length, before);
  assert.equal((await catalog.list({ limit: 10 })).items.map((e) => (e as Entity).kind), ['Repository']);
});

test('a catalog file in another repository does not overwrite entities held elsewhere; the delivery keeps the conflict', async () => {
  const t = await freshTables();
  const catalog = await Catalog.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations } });
  const id = randomBytes(4).toString('hex');
  const inbox = await Inbox.open({ storage: t.storage, table: `dlv${id}`, container: `dlv${id}` });
  const github = new Octokit({ baseUrl: standIn.url, request: { retries: 0 } }).rest;
  const handlers = catalogHandlers({ catalog, github });
  // Held by the API (another team's entities) and by Hello-World's own catalog file.
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'payments' }, spec: { members: ['user:alice'] } }, { name: 'api' });
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'ledger' }, spec: { owner: 'payments' } }, { name: 'api' });
  const push = example('push', (p) => p.ref === 'refs/heads/master' && p.commits.length === 1);
  push.commits[0].added = ['catalog-info.yaml'];
  standIn.files.set(`Codertocat/Hello-World@${push.after}:catalog-info.yaml`, CATALOG_INFO);
  await inbox.enqueue({ source: 'github', deliveryId: `own-${id}`, event: 'push', payload: push });
  // Drained before the other arrives: a queue does not promise the order of deliveries drained together.
  assert.equal(await inbox.drain(handlers), { done: 1, failed: 0, poisoned: 0, repeated: 0 });

  // The same push example, from another repository whose catalog-info.yaml names those entities.
  const evil = structuredClone(push);
  evil.after = 'e'.repeat(40);
  Object.assign(evil.repository, { name: 'Evil', full_name: 'Octocoders/Evil', html_url: 'https://github.com/Octocoders/Evil' });
  evil.repository.owner.login = 'Octocoders';
  standIn.files.set(`Octocoders/Evil@${evil.after}:catalog-info.yaml`, [
    'apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: hello-world\nspec:\n  owner: mallorys\n',
    'apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: ledger\nspec:\n  owner: mallorys\n',
    'apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: payments\nspec:\n  type: team\n  children: []\n  members: [mallory]\n',
    'apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: evil-tool\n  annotations:\n    github.com/project-slug: Codertocat/Hello-World\nspec:\n  owner: mallorys\n',
  ].join('---\n'));
  await inbox.enqueue({ source: 'github', deliveryId: `evil-${id}`, event: 'push', payload: evil });
  assert.equal(await inbox.drain(handlers), { done: 1, failed: 0, poisoned: 0, repeated: 0 });

  assert.is((await catalog.get('service:hello-world'))?.status?.owner, 'team:default/greeters');
  assert.is((await catalog.get('service:ledger'))?.status?.owner, 'team:default/payments');
  assert.equal((await catalog.get('team:payments'))?.spec.members, ['user:alice']);
  // What the file may write is written: the delivery is not lost.
  const tool = await catalog.get('service:evil-tool');
  assert.is(tool?.status?.owner, 'team:default/mallorys');
  // It cannot pass itself off as Hello-World's (deployments find services by that slug).
  assert.is(tool?.metadata.annotations?.['github.com/project-slug'], 'Octocoders/Evil');
  const st = await inbox.status('github', `evil-${id}`);
  assert.is(st?.status, 'done');
  const findings = st?.findings ?? [];
  assert.is(findings.length, 3, findings.join('\n'));
  assert.ok(findings.some((f) => f.includes('service:default/hello-world') && f.includes('file:codertocat/hello-world/catalog-info.yaml')), findings.join('\n'));
  assert.ok(findings.some((f) => f.includes('service:default/ledger') && f.includes('held by api')), findings.join('\n'));
  assert.ok(findings.some((f) => f.includes('team:default/payments')), findings.join('\n'));
  assert.is((await inbox.status('github', `own-${id}`))?.findings, undefined);

  // The repository that holds an entity still updates it.
  const again = structuredClone(push);
  again.after = 'a'.repeat(40);
  standIn.files.set(`Codertocat/Hello-World@${again.after}:catalog-info.yaml`, CATALOG_INFO.replace('Says hello', 'Says hello again'));
  await inbox.enqueue({ source: 'github', deliveryId: `again-${id}`, event: 'push', payload: again });
  await inbox.drain(handlers);
  assert.is((await catalog.get('service:hello-world'))?.metadata.description, 'Says hello again');
});

test('Teams and Users in a pushed catalog file are taken only from trusted catalog repositories', async () => {
  const catalog = await freshCatalog();
  // Owned by a team no entity describes yet, and bob is named in CODEOWNERS-style owners.
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'vault' }, spec: { owner: 'payments' } }, { name: 'api' });
  const push = example('push', (p) => p.ref === 'refs/heads/master' && p.commits.length === 1);
  push.commits[0].added = ['catalog-info.yaml'];
  const oid = '0f0f0f0f-1111-2222-3333-444444444444';
  standIn.files.set(`Codertocat/Hello-World@${push.after}:catalog-info.yaml`, [
    `apiVersion: nexus/v1\nkind: User\nmetadata:\n  name: bob\n  annotations:\n    graph.microsoft.com/user-id: ${oid}\nspec: {}\n`,
    'apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: payments\nspec:\n  type: team\n  children: []\n  members: [bob]\n',
    'apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: pusher-svc\nspec:\n  owner: greeters\n',
  ].join('---\n'));
  const out = await deliver(catalog, 'push', push, ['contoso/catalog', 'platform-*/teams']);
  // Refused and reported; the rest of the file is imported.
  assert.is(await catalog.get('user:bob', { consistent: true }), undefined);
  assert.is(await catalog.get('team:payments', { consistent: true }), undefined);
  assert.ok(await catalog.get('service:pusher-svc'));
  const findings = out.findings ?? [];
  assert.is(findings.length, 2, findings.join('\n'));
  assert.ok(findings.some((f) => f.includes('user:default/bob') && f.includes('NEXUS_CATALOG_TRUSTED_REPOS')), findings.join('\n'));
  assert.ok(findings.some((f) => f.includes('team:default/payments') && f.includes('Codertocat/Hello-World')), findings.join('\n'));
  // The pusher's sign-in is not bob's, and grants nothing over payments' service.
  const pusher = { id: oid, name: 'pusher', roles: ['Developer'], groups: [] };
  assert.equal(catalog.identify(pusher), { teams: [] });

  // From a trusted catalog repository (glob) the same file is taken whole.
  const trusted = structuredClone(push);
  trusted.after = 'b'.repeat(40);
  standIn.files.set(`Codertocat/Hello-World@${trusted.after}:catalog-info.yaml`, standIn.files.get(`Codertocat/Hello-World@${push.after}:catalog-info.yaml`)!);
  const ok = await deliver(catalog, 'push', trusted, ['codertocat/hello-*']);
  assert.is(ok.findings, undefined);
  assert.equal(catalog.identify(pusher), { user: 'user:default/bob', teams: ['team:default/payments'] });
});

test('NEXUS_CATALOG_TRUSTED_REPOS: owner/repo patterns, case-insensitive; anything else is refused naming the variable', () => {
  assert.equal(trustedCatalogRepos({}), []);
  assert.equal(trustedCatalogRepos({ NEXUS_CATALOG_TRUSTED_REPOS: ' Contoso/catalog , contoso/teams-* ' }), ['Contoso/catalog', 'contoso/teams-*']);
  assert.ok(isTrustedRepo('contoso/Catalog', ['Contoso/catalog']));
  assert.ok(isTrustedRepo('contoso/teams-eu', ['contoso/teams-*']));
  assert.not.ok(isTrustedRepo('contoso/catalogue', ['contoso/catalog']));
  assert.not.ok(isTrustedRepo('contoso/catalog', []));
  assert.throws(() => trustedCatalogRepos({ NEXUS_CATALOG_TRUSTED_REPOS: 'contoso' }), /NEXUS_CATALOG_TRUSTED_REPOS: "contoso"/);
});


test('a pushed catalog file: placeholders read the same commit (and github.com files), a bad document is refused alone', async () => {
  const catalog = await freshCatalog();
  const push = example('push', (p) => p.ref === 'refs/heads/master' && p.commits.length === 1);
  push.commits[0].added = ['services/web/catalog-info.yaml'];
  push.after = 'c'.repeat(40);
  const at = `Codertocat/Hello-World@${push.after}`;
  const api = (name: string, target: string) =>
    `apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: ${name}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: web-team\n  definition:\n    $text: ${target}\n`;
  standIn.files.set(`${at}:services/web/catalog-info.yaml`, [
    api('web-api', './openapi.yaml'),
    api('shared-api', 'https://github.com/Codertocat/Shared/blob/main/specs/shared.yaml'),
    api('elsewhere-api', 'https://specs.example.com/api.yaml'),
    api('escaping-api', '../../../outside.yaml'),
    'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n  type: website\n',
  ].join('---\n'));
  standIn.files.set(`${at}:services/web/openapi.yaml`, 'openapi: 3.0.0\ninfo: {title: web}\n');
  standIn.files.set('Codertocat/Shared@main:specs/shared.yaml', 'openapi: 3.0.0\ninfo: {title: shared}\n');
  const out = await deliver(catalog, 'push', push);
  assert.match(String((await catalog.get('api:web-api'))!.spec.definition), /title: web/);
  assert.match(String((await catalog.get('api:shared-api'))!.spec.definition), /title: shared/);
  assert.ok(standIn.requests.some((r) => r.startsWith(`GET /repos/Codertocat/Hello-World/contents/services%2Fweb%2Fopenapi.yaml?ref=${push.after}`)), standIn.requests.join("\n"));
  for (const name of ['elsewhere-api', 'escaping-api']) assert.is((await catalog.get(`api:${name}`))!.spec.definition, '', name);
  const findings = out.findings ?? [];
  assert.ok(findings.some((f) => f.includes('api:default/elsewhere-api') && /only github\.com file URLs|URLs are not read/.test(f)), findings.join('\n'));
  assert.ok(findings.some((f) => f.includes('api:default/escaping-api') && f.includes('outside the import root')), findings.join('\n'));
  assert.ok(findings.some((f) => f.includes('service:default/web not imported') && f.includes('spec.lifecycle') && f.includes('spec.owner')), findings.join('\n'));
  assert.is(await catalog.get('service:web', { consistent: true }), undefined);
});

test.run();

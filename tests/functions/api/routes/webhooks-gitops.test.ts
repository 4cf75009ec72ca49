// With GitOps wired (openNexus with a landing-zone repository), the webhook routes refuse a
// delivery of that repository GitOps could not act on: 400 naming the field, nothing queued. A
// malformed delivery of another repository is the catalog's to handle and is queued (202).
// GitHub's own example payloads (@octokit/webhooks-examples), signed here as GitHub signs them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhooks } from '@octokit/webhooks';
import { loadConfig } from '../../../../functions/runtime/config.ts';
import { openNexus, type Nexus } from '../../../../functions/runtime/nexus.ts';
import { azurite } from '../../../helpers/azurite.ts';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: unknown[] }>;
const example = (name: string, i = 0): any => structuredClone(examples.find((e) => e.name === name)!.examples[i]);
const adoFixture = (): any => JSON.parse(readFileSync(fileURLToPath(new URL('../../../fixtures/azure-devops/git-push.json', import.meta.url)), 'utf8'));

const GITHUB_SECRET = 'gh-gitops-route-secret';
const ADO_SECRET = 'ado-gitops-route-secret';
// The examples' repository is the landing-zone repository of the GitHub instance.
const LZ = 'Codertocat/Hello-World';

const t = suite<{ gh: Nexus; ado: Nexus }>('webhooks with GitOps');

t.before(async (ctx) => {
  const az = await azurite();
  const base = { ...az.env, NEXUS_LOCAL_ISSUER: '1', NEXUS_CATALOG_REFRESH_SECONDS: '0', NEXUS_LOG_LEVEL: 'silent' };
  // Nothing here reaches the Git host: the checks run on the payload before it is queued.
  ctx.gh = await openNexus(loadConfig({
    ...base, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-wh-gh-')),
    NEXUS_LANDING_ZONE_REPO: `github:${LZ}`, NEXUS_LANDING_ZONE_BRANCH: 'master', NEXUS_GITHUB_TOKEN: 'ghp_unused',
    NEXUS_GITHUB_API_URL: 'http://127.0.0.1:9/api/v3', NEXUS_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
  }));
  ctx.ado = await openNexus(loadConfig({
    ...base, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-wh-ado-')),
    NEXUS_LANDING_ZONE_REPO: 'azure-devops:contoso/platform/landing-zones', NEXUS_ADO_URL: 'http://127.0.0.1:9', NEXUS_ADO_PAT: 'unused',
    NEXUS_ADO_WEBHOOK_SECRET: ADO_SECRET,
  }));
  assert.ok(ctx.gh.deps.checkDelivery, 'openNexus wires the GitOps check into the API');
});

t.after(async ({ gh, ado }) => {
  await gh?.close();
  await ado?.close();
});

async function github(nexus: Nexus, event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const id = randomUUID();
  const headers = {
    'x-github-event': event, 'x-github-delivery': id, 'content-type': 'application/json',
    'x-hub-signature-256': await new Webhooks({ secret: GITHUB_SECRET }).sign(body),
  };
  const res = await nexus.app.request('/webhooks/github', { method: 'POST', headers, body });
  return { id, res, json: (await res.json()) as { field?: string; detail?: string; title?: string } };
}

async function azureDevOps(nexus: Nexus, payload: any) {
  const res = await nexus.app.request('/webhooks/azure-devops', {
    method: 'POST', body: JSON.stringify(payload),
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`nexus:${ADO_SECRET}`).toString('base64')}` },
  });
  return { res, json: (await res.json()) as { field?: string; detail?: string } };
}

const text = (p: { detail?: string; title?: string }) => `${p.title ?? ''} ${p.detail ?? ''}`;

t('a well-formed push and pull request of the landing-zone repository are queued', async ({ gh }) => {
  for (const [event, payload] of [['push', example('push')], ['pull_request', example('pull_request')]] as const) {
    const { id, res, json } = await github(gh, event, payload);
    assert.is(res.status, 202, `${event}: ${JSON.stringify(json)}`);
    assert.is((await gh.inbox.status('github', id))?.event, event);
  }
});

t('a push of the landing-zone repository without `after` is 400 naming body.after, and nothing is queued', async ({ gh }) => {
  const payload = example('push');
  delete payload.after;
  const { id, res, json } = await github(gh, 'push', payload);
  assert.is(res.status, 400, JSON.stringify(json));
  assert.is(res.headers.get('content-type'), 'application/problem+json');
  assert.is(json.field, 'body.after');
  assert.is(await gh.inbox.status('github', id), undefined);

  // A mistyped commit id is named the same way.
  const bad = example('push');
  bad.before = 'HEAD~1';
  const r2 = await github(gh, 'push', bad);
  assert.is(r2.res.status, 400);
  assert.is(r2.json.field, 'body.before');
  assert.is(await gh.inbox.status('github', r2.id), undefined);
});

t('the same malformed push of another repository is queued: the catalog handles it', async ({ gh }) => {
  const payload = example('push');
  delete payload.after;
  payload.repository.full_name = 'contoso/payments-api';
  const { id, res, json } = await github(gh, 'push', payload);
  assert.is(res.status, 202, JSON.stringify(json));
  assert.is((await gh.inbox.status('github', id))?.event, 'push');
});

t('a pull request of the landing-zone repository without head.sha is 400 naming it', async ({ gh }) => {
  const payload = example('pull_request');
  delete payload.pull_request.head.sha;
  const { id, res, json } = await github(gh, 'pull_request', payload);
  assert.is(res.status, 400, JSON.stringify(json));
  assert.is(json.field, 'body.pull_request.head.sha');
  assert.match(text(json), /head\.sha/);
  assert.is(await gh.inbox.status('github', id), undefined);
});

t('events GitOps does not act on are not checked by it', async ({ gh }) => {
  // An issue comment of the landing-zone repository is the catalog's: queued whatever its shape.
  const { id, res } = await github(gh, 'issues', { action: 'opened', repository: { full_name: LZ } });
  assert.is(res.status, 202);
  assert.ok(await gh.inbox.status('github', id));
});

t('an Azure DevOps git.push of the landing-zone repository with broken refUpdates is 400 naming the field', async ({ ado }) => {
  const good = adoFixture();
  good.id = randomUUID();
  const ok = await azureDevOps(ado, good);
  assert.is(ok.res.status, 202, JSON.stringify(ok.json));

  const missing = adoFixture();
  missing.id = randomUUID();
  delete missing.resource.refUpdates;
  const r1 = await azureDevOps(ado, missing);
  assert.is(r1.res.status, 400, JSON.stringify(r1.json));
  assert.is(r1.json.field, 'body.resource.refUpdates');
  assert.is(await ado.inbox.status('azure-devops', missing.id), undefined);

  const broken = adoFixture();
  broken.id = randomUUID();
  broken.resource.refUpdates[0].newObjectId = 'not-a-commit';
  const r2 = await azureDevOps(ado, broken);
  assert.is(r2.res.status, 400, JSON.stringify(r2.json));
  assert.is(r2.json.field, 'body.resource.refUpdates.0.newObjectId');
  assert.is(await ado.inbox.status('azure-devops', broken.id), undefined);

  const empty = adoFixture();
  empty.id = randomUUID();
  empty.resource.refUpdates = [];
  const r3 = await azureDevOps(ado, empty);
  assert.is(r3.res.status, 400, JSON.stringify(r3.json));
  assert.is(r3.json.field, 'body.resource.refUpdates');

  // Another repository's broken push is the catalog's to handle.
  const other = adoFixture();
  other.id = randomUUID();
  other.resource.repository.name = 'payments-api';
  delete other.resource.refUpdates;
  const r4 = await azureDevOps(ado, other);
  assert.is(r4.res.status, 202, JSON.stringify(r4.json));

  // So is a repository of the same name in another project (or another organisation).
  for (const [project, baseUrl] of [['apps', 'https://dev.azure.com/contoso/'], ['platform', 'https://dev.azure.com/fabrikam/']]) {
    const namesake = adoFixture();
    namesake.id = randomUUID();
    namesake.resource.repository.project.name = project;
    namesake.resourceContainers.account.baseUrl = baseUrl;
    namesake.resourceContainers.collection.baseUrl = baseUrl;
    delete namesake.resource.refUpdates;
    const r5 = await azureDevOps(ado, namesake);
    assert.is(r5.res.status, 202, `${project} ${baseUrl}: ${JSON.stringify(r5.json)}`);
  }
});

t.run();

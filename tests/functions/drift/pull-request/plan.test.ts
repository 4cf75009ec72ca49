// planDriftPullRequest on a copy of the shipped archetypes with the real compiler: a live value is
// adopted into the archetype that decides it (an existing override, the archetype's own
// declaration, or a new override on the group's archetype), comments and layout kept, and the
// edited repository compiles to the live value; what cannot be expressed lands in drift/<stack>.md.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDocument } from 'yaml';
import { planDriftPullRequest } from '../../../../functions/drift/pull-request/plan.ts';
import type { FileWrite } from '../../../../functions/platform/git-host/types.ts';
import { PA, alice, assignmentId, compileRepo, guardrails, item, pipeline, repoCopy, report } from './fixtures.ts';

const dirs: string[] = [];
function repo(): string {
  const d = repoCopy();
  dirs.push(d);
  return d;
}
test.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function write(dir: string, files: FileWrite[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content ?? '');
  }
}

/** Text without the zero-width spaces that keep `@` from mentioning anyone. */
const plain = (s: string) => s.replace(/\u200b/g, '');

const props = (state: ReturnType<typeof compileRepo>, id: string) => state.resources.find((r) => r.id === id)!.body.properties as Record<string, any>;

test('an inherited override: the live effect replaces the override in nexus-corp.yaml, comments kept, and compiles to it', () => {
  const dir = repo();
  const desired = compileRepo(dir);
  const id = assignmentId('corp', 'Deny-Subnet-No-Udr');
  assert.is(props(desired, id).parameters.effect.value, 'Audit');
  const plan = planDriftPullRequest({ report: report('corp', [item(id, PA, [{ path: 'properties.parameters.effect.value', desired: 'Audit', live: 'Deny', changedBy: alice }])]), desired, repoDir: dir, guardrails: guardrails() })!;
  assert.ok(plan);
  assert.is(plan.branch, 'nexus/drift/corp');
  assert.equal(plan.files.map((f) => f.path), ['nexus-corp.yaml']);
  const before = readFileSync(join(dir, 'nexus-corp.yaml'), 'utf8');
  const after = plan.files[0]!.content!;
  // Only the value changed: every other line (both comment lines, the flow list) is as it was.
  const diff = before.split('\n').map((l, i) => [l, after.split('\n')[i]]).filter(([a, b]) => a !== b);
  assert.equal(diff, [['              effect: Audit', '              effect: Deny']]);
  write(dir, plan.files);
  assert.is(props(compileRepo(dir), id).parameters.effect.value, 'Deny');
  assert.ok(plain(plan.body).includes('alice@contoso.com'));
  assert.match(plan.body, /2026-12-01T09:30:00Z/);
  assert.match(plan.body, /Risk: \d+\/100/);
  // The corp rule of the guardrails applies to a policy assignment change at corp.
  assert.equal(plan.approvals.map((a) => a.rule), ['corp-policies']);
  assert.match(plan.body, /network-approvers/);
  assert.match(plan.body, /<!-- nexus:drift-plan sha256=[0-9a-f]{64} -->$/);
});

test('own declaration and a new override: enforcementMode, messages and an ALZ parameter on landingzones', () => {
  const dir = repo();
  const desired = compileRepo(dir);
  const tags = assignmentId('landingzones', 'Audit-Mandatory-Tags');
  const ddos = assignmentId('landingzones', 'Enable-DDoS-VNET');
  const messages = [{ message: 'Every resource needs owner, costcenter and service tags.' }];
  const plan = planDriftPullRequest({
    report: report('landingzones', [
      item(tags, PA, [
        { path: 'properties.enforcementMode', desired: 'Default', live: 'DoNotEnforce', changedBy: alice },
        { path: 'properties.nonComplianceMessages[0].message', desired: 'Tag every resource with owner, costcenter and service.', live: messages[0]!.message },
        { path: 'properties.parameters.mandatoryTags.value', desired: ['owner', 'costcenter', 'service'], live: ['owner', 'costcenter'] },
      ]),
      item(ddos, PA, [{ path: 'properties.parameters.effect', desired: { value: 'Modify' }, live: { value: 'Audit' }, changedBy: pipeline }], [pipeline]),
    ]),
    desired, repoDir: dir, guardrails: guardrails(),
  })!;
  assert.equal(plan.files.map((f) => f.path), ['nexus-landing-zones.yaml']);
  assert.ok(plan.planned.every((p) => p.proposal.kind === 'adopted'), JSON.stringify(plan.planned.map((p) => p.proposal)));
  const text = plan.files[0]!.content!;
  assert.ok(text.startsWith('# Landing zones as ALZ ships them, with two Nexus decisions on top.\n'));
  const doc = parseDocument(text).toJS();
  assert.is(doc.spec.policies[0].enforcementMode, 'DoNotEnforce');
  assert.equal(doc.spec.policies[0].nonComplianceMessages, messages);
  assert.equal(doc.spec.policies[0].parameters.mandatoryTags, ['owner', 'costcenter']);
  // Enable-DDoS-VNET comes from ALZ's landing_zones: a parameter override beside the existing enforcementMode one.
  assert.equal(doc.spec.inherits[0].overrides.policies['Enable-DDoS-VNET'], { enforcementMode: 'DoNotEnforce', parameters: { effect: 'Audit' } });
  write(dir, plan.files);
  const after = compileRepo(dir);
  assert.is(props(after, tags).enforcementMode, 'DoNotEnforce');
  assert.equal(props(after, tags).nonComplianceMessages, messages);
  assert.equal(props(after, tags).parameters.mandatoryTags.value, ['owner', 'costcenter']);
  assert.is(props(after, ddos).parameters.effect.value, 'Audit');
  assert.ok(!plan.files.some((f) => f.path.startsWith('drift/')));
});

test('a plain inherits entry becomes a map with the override; other groups keep the shared archetype', () => {
  const dir = repo();
  // nexus-private-network inherits `corp` as a plain name in a flow list; put it on a new group of its own.
  const arch = join(dir, 'nexus-default.architecture.yaml');
  writeFileSync(arch, readFileSync(arch, 'utf8').replace('archetypes: [nexus-corp]', 'archetypes: [nexus-private-network]'));
  const desired = compileRepo(dir);
  const id = assignmentId('corp', 'Deny-Public-Endpoints');
  const found = desired.resources.find((r) => r.id === id);
  assert.ok(found, 'corp assigns Deny-Public-Endpoints through ALZ corp');
  const plan = planDriftPullRequest({ report: report('corp', [item(id, PA, [{ path: 'properties.enforcementMode', desired: 'Default', live: 'DoNotEnforce' }])]), desired, repoDir: dir, guardrails: guardrails() })!;
  assert.equal(plan.files.map((f) => f.path), ['nexus-private-network.yaml']);
  const doc = parseDocument(plan.files[0]!.content!).toJS();
  assert.equal(doc.spec.inherits, [{ name: 'corp', overrides: { policies: { 'Deny-Public-Endpoints': { enforcementMode: 'DoNotEnforce' } } } }]);
  assert.match(plan.files[0]!.content!, /^# Corp networking/);
  write(dir, plan.files);
  assert.is(props(compileRepo(dir), id).enforcementMode, 'DoNotEnforce');
});

test('not expressible: an ALZ archetype on the group, an added role assignment, another property → drift/<stack>.md', () => {
  const dir = repo();
  const desired = compileRepo(dir);
  const ddos = assignmentId('connectivity', 'Enable-DDoS-VNET');
  const role = '/providers/Microsoft.Management/managementGroups/connectivity/providers/Microsoft.Authorization/roleAssignments/5f0c7d4e-1111-4222-8333-944445555666';
  const plan = planDriftPullRequest({
    report: report('connectivity', [
      item(ddos, PA, [
        { path: 'properties.parameters.effect.value', desired: 'Modify', live: 'Disabled', changedBy: alice },
        { path: 'properties.displayName', desired: 'Virtual networks should be protected by Azure DDoS Protection', live: 'DDoS (temporarily off)' },
      ]),
      item(role, 'Microsoft.Authorization/roleAssignments', [{ path: 'properties', desired: undefined, live: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635', principalId: 'p-1' } }]),
    ]),
    desired, repoDir: dir, guardrails: guardrails(),
  })!;
  assert.equal(plan.files.map((f) => f.path), ['drift/connectivity.md']);
  assert.ok(plan.planned.every((p) => p.proposal.kind === 'documented'));
  const md = plain(plan.files[0]!.content!);
  for (const s of [ddos, role, 'properties.parameters.effect.value', '"Modify"', '"Disabled"', 'alice@contoso.com', '2026-12-01T09:30:00Z', 'properties.displayName', 'no archetype declares this resource']) {
    assert.ok(md.includes(s), `drift/connectivity.md names ${s}`);
  }
  // Deleting a role assignment at group scope is a protected delete; role changes need their rule too.
  assert.equal(plan.approvals.map((a) => a.rule).sort(), ['protected-delete', 'role-changes']);
  assert.is(plan.title, 'Drift on connectivity: document the revert');
});

test('the same drift gives the same hash; another live value another one; nothing to propose gives no plan', () => {
  const dir = repo();
  const desired = compileRepo(dir);
  const id = assignmentId('corp', 'Deny-Subnet-No-Udr');
  const mk = (live: string) => planDriftPullRequest({ report: report('corp', [item(id, PA, [{ path: 'properties.parameters.effect.value', desired: 'Audit', live, changedBy: alice }])]), desired, repoDir: dir, guardrails: guardrails() })!;
  assert.is(mk('Deny').hash, mk('Deny').hash);
  assert.is.not(mk('Deny').hash, mk('Disabled').hash);
  const reported = { ...item(id, PA, [{ path: 'properties.parameters.effect.value', desired: 'Audit', live: 'Deny' }]), action: 'report' as const };
  assert.is(planDriftPullRequest({ report: report('corp', [reported]), desired, repoDir: dir, guardrails: guardrails() }), undefined);
});

test('a live value the archetypes already hold, or a removed parameter: no edit, and no plan or a documented revert', () => {
  const dir = repo();
  const desired = compileRepo(dir);
  const id = assignmentId('corp', 'Deny-Subnet-No-Udr');
  // The repository already says Audit (a commit not applied yet): nothing to propose.
  assert.is(planDriftPullRequest({ report: report('corp', [item(id, PA, [{ path: 'properties.parameters.effect.value', desired: 'Deny', live: 'Audit' }])]), desired, repoDir: dir, guardrails: guardrails() }), undefined);
  const removed = planDriftPullRequest({ report: report('corp', [item(id, PA, [{ path: 'properties.parameters.excludedSubnets', desired: { value: ['GatewaySubnet'] }, live: undefined }])]), desired, repoDir: dir, guardrails: guardrails() })!;
  assert.equal(removed.files.map((f) => f.path), ['drift/corp.md']);
  assert.match(removed.planned[0]!.proposal.kind === 'documented' ? removed.planned[0]!.proposal.reason : '', /removed/);
});

test.run();

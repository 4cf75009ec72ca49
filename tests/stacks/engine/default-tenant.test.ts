// The default tenant through the real engine: compiled from archetypes/ and the ALZ library,
// applied into an ARM sandbox of its own (so other suites' tenants do not mix in), state in
// Azurite under a backend folder of its own.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azurite } from '../../helpers/azurite.ts';
import { startSandbox, type SandboxHandle } from '../../../scripts/sandbox/server.ts';
import { alzLibraryDir, archetypesDir, compileDefaultTenant, compileTenant } from '../../../stacks/compile/index.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';
import { previewTenant, upTenant } from '../../../stacks/engine/tenant.ts';

const test = suite('default tenant');
let sb: SandboxHandle;
let env: NodeJS.ProcessEnv;
let state: DesiredState;
const opts = () => ({ env, resourceBackend: 'arm-rest' as const });
const ofKind = (kind: string) => state.resources.filter((r) => r.kind === kind);

test.before(async () => {
  const az = await azurite();
  sb = await startSandbox();
  env = {
    ...process.env, ...az.env, ...sb.env, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-home-')),
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/default-tenant-${process.pid}?domain=127.0.0.1:${az.blobPort}&protocol=http`,
  };
  state = await compileDefaultTenant(env);
});

test.after(async () => {
  await sb?.stop();
});

test('up applies every stack; the groups, assignments and role assignments are in the sandbox', async () => {
  const results = await upTenant(state, opts());
  assert.equal(results.map((r) => r.name), state.stacks.map((s) => s.name));
  const created = results.reduce((n, r) => n + r.changeSet.summary.create, 0);
  assert.is(created, state.resources.length);

  for (const r of [...ofKind('managementGroup'), ...ofKind('policyAssignment'), ...ofKind('roleAssignment')]) {
    assert.ok(sb.state.get(r.id), `${r.id} is in the sandbox`);
  }
  // Remediation role assignments carry the principal ARM gave the assignment's identity.
  const remediation = ofKind('roleAssignment').filter((r) => typeof r.body.properties.principalId === 'object');
  assert.ok(remediation.length > 0);
  for (const r of remediation) {
    const ref = r.body.properties.principalId as unknown as { $ref: string };
    assert.is(sb.state.get(r.id)!.properties.principalId, sb.state.get(ref.$ref)!.identity.principalId, r.id);
  }
});

test('a second preview shows no changes in any stack', async () => {
  const results = await previewTenant(state, opts());
  for (const r of results) assert.equal(r.changeSet.changes.filter((c) => c.op !== 'same'), [], r.name);
  assert.is(results.reduce((n, r) => n + r.changeSet.summary.same, 0), state.resources.length);
});

test('an archetype edit shows up in preview as exactly the expected ChangeSet', async () => {
  // nexus-corp audits subnets without a route table; the edit makes it deny them.
  const lib = mkdtempSync(join(tmpdir(), 'nexus-archetypes-'));
  cpSync(archetypesDir(), lib, { recursive: true });
  const file = join(lib, 'nexus-corp.yaml');
  const yaml = readFileSync(file, 'utf8');
  assert.match(yaml, /Deny-Subnet-No-Udr:\n\s+parameters:\n\s+effect: Audit/);
  writeFileSync(file, yaml.replace(/(Deny-Subnet-No-Udr:\n\s+parameters:\n\s+effect:) Audit/, '$1 Deny'));
  const edited = await compileTenant({ libraries: [alzLibraryDir(env), lib], architecture: 'nexus-default', rootMg: state.rootManagementGroupId });

  // Only the corp stack's desired state differs...
  const corp = state.stacks.find((s) => s.name === 'corp')!;
  // (source.file names the copied folder, so it is left out of the comparison)
  const outside = (s: DesiredState) => s.resources.filter((r) => r.stack !== 'corp').map(({ source: _, ...r }) => r);
  assert.equal(outside(edited), outside(state));

  // ...and its preview is that one parameter of that one assignment.
  const [r] = await previewTenant(edited, { ...opts(), stacks: ['corp'] });
  const id = `/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/policyAssignments/Deny-Subnet-No-Udr`;
  assert.equal(r.changeSet.summary, { create: 0, update: 1, replace: 0, delete: 0, same: corp.resourceIds.length - 1 });
  assert.equal(r.changeSet.changes.filter((c) => c.op !== 'same'), [{
    op: 'update',
    urn: `urn:pulumi:corp::nexus::pulumi-nodejs:dynamic/arm:PolicyAssignment::${id}`,
    type: 'pulumi-nodejs:dynamic/arm:PolicyAssignment',
    armType: 'Microsoft.Authorization/policyAssignments',
    armId: id,
    scope: '/providers/Microsoft.Management/managementGroups/corp',
    changedKeys: ['properties.parameters.effect.value'],
    diffs: [{ path: 'properties.parameters.effect.value', kind: 'update', old: 'Audit', new: 'Deny' }],
  }]);
});

test.run();

// Policy ownership of properties, computed from a compiled DesiredState: real built-ins from the
// shipped cache and ALZ library definitions, plus tag policies written here in the built-in's shape
// (the shipped cache holds only what the ALZ library uses).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuiltinCache, builtinPoliciesDir } from '../../../stacks/compile/builtins.ts';
import { alzLibraryDir, compile } from '../../../stacks/compile/index.ts';
import { ownedPaths, ownership, PolicyOwnership, remediatingAssignments, scopeChain, stateDefinitions } from '../../../functions/drift/ownership.ts';
import { evaluate, fieldPath } from '../../../functions/drift/policy-fields.ts';
import { tmpLibrary } from '../../stacks/compile/tmp-library.ts';

const SUB = '77777777-7777-7777-7777-777777777777';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-apps`;
const CORP = '/providers/Microsoft.Management/managementGroups/corp';
const PA = (n: string) => `${CORP}/providers/Microsoft.Authorization/policyAssignments/${n}`;
const WS = `/subscriptions/${SUB}/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central`;
const INHERIT = 'cd3aa116-8754-49c9-a813-ad46512ece54';
const APPEND = '2a0e14a6-b0a6-4fab-991a-187a4f81c498';
const LOWER = 'aaaaaaaa-0000-4000-8000-000000000001';

/** Tag policies in the shape of Azure's built-ins (inherit from the resource group: Modify; append a tag: Append). */
function tagBuiltins(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-builtins-'));
  mkdirSync(join(dir, 'policyDefinitions'));
  const tagField = "[concat('tags[', parameters('tagName'), ']')]";
  const def = (name: string, parameters: object, rule: object) =>
    writeFileSync(join(dir, 'policyDefinitions', `${name}.json`), JSON.stringify({ name, properties: { displayName: name, mode: 'Indexed', parameters, policyRule: rule } }));
  def(INHERIT, { tagName: { type: 'String' } }, {
    if: { allOf: [{ field: tagField, notEquals: "[resourceGroup().tags[parameters('tagName')]]" }, { value: "[resourceGroup().tags[parameters('tagName')]]", notEquals: '' }] },
    then: { effect: 'modify', details: { roleDefinitionIds: ['/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c'], operations: [{ operation: 'addOrReplace', field: tagField, value: "[resourceGroup().tags[parameters('tagName')]]" }] } },
  });
  def(APPEND, { tagName: { type: 'String' }, tagValue: { type: 'String' } }, {
    if: { field: tagField, exists: 'false' },
    then: { effect: 'append', details: [{ field: tagField, value: "[parameters('tagValue')]" }] },
  });
  // A field built with a function the evaluator does not know: skipped, with a note.
  def(LOWER, { tagName: { type: 'String' } }, {
    if: { field: 'type', notEquals: 'Microsoft.Resources/subscriptions' },
    then: { effect: 'append', details: [{ field: "[concat('tags[', toLower(parameters('tagName')), ']')]", value: 'x' }] },
  });
  return dir;
}

const ARCHETYPE = `apiVersion: nexus/v1
kind: Archetype
metadata: { name: owned }
spec:
  policyDefinitions: [Append-KV-SoftDelete, Append-Redis-sslEnforcement, Deploy-Diagnostics-AA]
  policySetDefinitions: [Own-Set]
  policies:
    - { name: Storage-No-Public, definition: 13502221-8df0-4414-9937-de9c5c4e396b }
    - { name: Vm-Identity, definition: 3cf2ab00-13f1-4d0c-8971-2ac904541a7e }
    - { name: Inherit-Cost, definition: ${INHERIT}, parameters: { tagName: costCenter } }
    - { name: Append-Env, definition: ${APPEND}, parameters: { tagName: env, tagValue: prod }, notScopes: ["/subscriptions/${SUB}/resourceGroups/excluded"] }
    - { name: Append-Lower, definition: ${LOWER}, parameters: { tagName: Team } }
    - { name: KV-SoftDelete, definition: Append-KV-SoftDelete }
    - { name: Redis-Off, definition: Append-Redis-sslEnforcement, parameters: { effect: Disabled } }
    - { name: Redis-Set, definition: Own-Set }
    - { name: Activity-Logs, definition: 2465583e-4e78-4c15-b6be-a36cbc7c8b0f, parameters: { logAnalytics: "${WS}" } }
    - { name: Diag-AA, definition: Deploy-Diagnostics-AA, parameters: { logAnalytics: "${WS}" } }
`;

const OWN_SET = {
  name: 'Own-Set',
  properties: {
    displayName: 'Own set',
    parameters: { tls: { type: 'String', defaultValue: '1.2' } },
    policyDefinitions: [
      {
        policyDefinitionReferenceId: 'redis-tls',
        policyDefinitionId: '/providers/Microsoft.Management/managementGroups/placeholder/providers/Microsoft.Authorization/policyDefinitions/Append-Redis-sslEnforcement',
        parameters: { minimumTlsVersion: { value: "[parameters('tls')]" } },
      },
    ],
  },
};

function setup() {
  const builtinCache = tagBuiltins();
  const lib = tmpLibrary({
    'owned.yaml': ARCHETYPE,
    'Own-Set.alz_policy_set_definition.json': OWN_SET,
    'own.yaml': JSON.stringify({
      apiVersion: 'nexus/v1', kind: 'Architecture', metadata: { name: 'own' },
      spec: {
        rootManagementGroup: 'tenant-root', location: 'westeurope',
        managementGroups: [{ id: 'corp', archetypes: ['owned'] }, { id: 'corp-apps', parent: 'corp', archetypes: [] }],
        subscriptions: [{ id: SUB, managementGroup: 'corp-apps' }],
      },
    }),
  });
  const c = compile({ libraries: [alzLibraryDir(process.env), lib], architecture: 'own', builtinPolicies: builtinPoliciesDir(process.env), builtinCache });
  const lookup = stateDefinitions(c.state, new BuiltinCache([builtinPoliciesDir(process.env), builtinCache]));
  return { state: c.state, lookup, findings: c.state.findings.filter((f) => f.severity === 'error') };
}

const sorted = (xs: { path: string; owner: string }[]) => xs.map((x) => [x.path, x.owner]).sort((a, b) => (a.join() < b.join() ? -1 : 1));

test('a resource inherits from its resource group, subscription, the placing group and its parents', () => {
  const { state, findings } = setup();
  assert.equal(findings, []);
  const id = `${RG}/providers/Microsoft.Storage/storageAccounts/sa1`;
  assert.equal(scopeChain(state, id), [id, RG, `/subscriptions/${SUB}`, '/providers/Microsoft.Management/managementGroups/corp-apps', CORP, '/providers/Microsoft.Management/managementGroups/tenant-root']);
});

test('a storage account: the Modify built-in\'s alias, inherited and appended tags; nothing from VM or Key Vault policies', () => {
  const { state, lookup } = setup();
  const o = ownership(state, { id: `${RG}/providers/Microsoft.Storage/storageAccounts/sa1`, type: 'Microsoft.Storage/storageAccounts' }, lookup);
  assert.equal(sorted(o.paths), [
    ['properties.allowBlobPublicAccess', `policy-modify:${PA('Storage-No-Public')}`],
    ['tags.costCenter', `policy-modify:${PA('Inherit-Cost')}`],
    ['tags.env', `policy-append:${PA('Append-Env')}`],
  ]);
  assert.equal(o.notes.length, 1);
  assert.match(o.notes[0]!, /Append-Lower: field skipped: function toLower\(\) is not evaluated/);
});

test('notScopes, effects set to Disabled, set members with their own parameters', () => {
  const { state, lookup } = setup();
  const excluded = ownedPaths(state, { id: `/subscriptions/${SUB}/resourceGroups/excluded/providers/Microsoft.Storage/storageAccounts/sa2`, type: 'Microsoft.Storage/storageAccounts' }, lookup);
  assert.not.ok(excluded.some((p) => p.path === 'tags.env'), 'Append-Env does not apply in its notScope');
  // Redis-Off assigns the Append with effect Disabled; the set's member keeps the default Append.
  const redis = ownedPaths(state, { id: `${RG}/providers/Microsoft.Cache/redis/r1`, type: 'Microsoft.Cache/Redis' }, lookup);
  assert.equal(sorted(redis.filter((p) => !p.path.startsWith('tags.'))), [['properties.minimumTlsVersion', `policy-append:${PA('Redis-Set')}`]]);
  const vault = ownedPaths(state, { id: `${RG}/providers/Microsoft.KeyVault/vaults/kv1`, type: 'Microsoft.KeyVault/vaults' }, lookup);
  assert.ok(vault.some((p) => p.path === 'properties.enableSoftDelete' && p.owner === `policy-append:${PA('KV-SoftDelete')}`));
  const vm = ownedPaths(state, { id: `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`, type: 'Microsoft.Compute/virtualMachines' }, lookup);
  assert.ok(vm.some((p) => p.path === 'identity.type' && p.owner === `policy-modify:${PA('Vm-Identity')}`));
});

test('remediating assignments: DINEs for the type they deploy, Modify for the types their if can match', () => {
  const { state, lookup } = setup();
  const diag = remediatingAssignments(state, { id: `/subscriptions/${SUB}/providers/Microsoft.Insights/diagnosticSettings/setbypolicy`, type: 'Microsoft.Insights/diagnosticSettings' }, lookup);
  assert.equal(
    diag.filter((r) => r.effect === 'deployifnotexists').map((r) => [r.assignmentId, r.reason]),
    [[PA('Activity-Logs'), 'deploys'], [PA('Diag-AA'), 'deploys']],
  );
  const storage = remediatingAssignments(state, { id: `${RG}/providers/Microsoft.Storage/storageAccounts/sa1`, type: 'Microsoft.Storage/storageAccounts' }, lookup);
  assert.equal(storage.map((r) => [r.assignmentId, r.effect, r.reason]).sort(), [
    [PA('Inherit-Cost'), 'modify', 'modifies'],
    [PA('Storage-No-Public'), 'modify', 'modifies'],
  ]);
  assert.is(storage.find((r) => r.assignmentId === PA('Storage-No-Public'))!.definitionId, '/providers/Microsoft.Authorization/policyDefinitions/13502221-8df0-4414-9937-de9c5c4e396b');
});

test('one PolicyOwnership serves a whole run: siblings share results, a notScope still splits them, callers get copies', () => {
  const { state, lookup } = setup();
  const own = new PolicyOwnership(state, lookup);
  const T = 'Microsoft.Storage/storageAccounts';
  const a = own.ownedPaths({ id: `${RG}/providers/${T}/a`, type: T });
  a.push({ path: 'mutated', owner: 'x' });
  a[0]!.path = 'mutated too';
  const b = own.ownedPaths({ id: `${RG}/providers/${T}/b`, type: T });
  assert.equal(sorted(b), sorted(ownedPaths(state, { id: `${RG}/providers/${T}/b`, type: T }, lookup)));
  assert.ok(b.some((p) => p.path === 'tags.env'));
  const excluded = own.ownedPaths({ id: `/subscriptions/${SUB}/resourceGroups/excluded/providers/${T}/c`, type: T });
  assert.not.ok(excluded.some((p) => p.path === 'tags.env'));
  assert.ok(own.ownedPaths({ id: `/subscriptions/${SUB}/resourceGroups/other/providers/${T}/d`, type: T }).some((p) => p.path === 'tags.env'));
  const started = performance.now();
  for (let i = 0; i < 5000; i++) own.ownership({ id: `${RG}${i % 50}/providers/${T}/sa${i}`, type: T });
  assert.ok(performance.now() - started < 2000, '5,000 resources take well under the drift budget');
});

test('field expressions and paths', () => {
  const values = new Map<string, unknown>([['tagName', "it's"], ['n', 3]]);
  assert.equal(evaluate("[concat('tags[', parameters('TAGNAME'), ']')]", values), { value: "tags[it's]" });
  assert.equal(evaluate("[concat('a''b', parameters('n'))]", values), { value: "a'b3" });
  assert.equal(evaluate('[[not an expression]', values), { value: '[not an expression]' });
  assert.ok('skip' in evaluate("[parameters('missing')]", values));
  assert.ok('skip' in evaluate("[parameters('tagName').x]", values));
  assert.ok('skip' in evaluate(`[${'concat('.repeat(40)}'x'${')'.repeat(40)}]`, values));
  const T = 'Microsoft.Storage/storageAccounts';
  assert.equal(fieldPath("tags['cost center']", T), { path: 'tags.cost center' });
  assert.equal(fieldPath('tags[env]', T), { path: 'tags.env' });
  assert.equal(fieldPath('tags.env', T), { path: 'tags.env' });
  assert.equal(fieldPath('tags', T), { path: 'tags.*' });
  assert.equal(fieldPath('Microsoft.Storage/storageAccounts/minimumTlsVersion', T), { path: 'properties.minimumTlsVersion' });
  assert.equal(fieldPath('microsoft.storage/storageaccounts/networkAcls.ipRules[*]', T), { path: 'properties.networkAcls.ipRules[*]' });
  assert.equal(fieldPath('Microsoft.Storage/storageAccounts/sku.name', T), { path: 'sku.name' });
  assert.equal(fieldPath('Microsoft.Storage/storageAccounts/blobServices/default.deleteRetentionPolicy.enabled', T), { otherType: 'Microsoft.Storage/storageAccounts/blobServices/default.deleteRetentionPolicy.enabled' });
  assert.equal(fieldPath('Microsoft.Web/sites/config/minTlsVersion', 'Microsoft.Web/sites/config'), { path: 'properties.minTlsVersion' });
  assert.ok('skip' in fieldPath('somethingElse', T));
});

test.run();

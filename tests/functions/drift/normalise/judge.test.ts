// The judge, rule by rule, with the shipped rules: each noise case next to the drift it must not hide.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judge } from '../../../../functions/drift/normalise/judge.ts';
import { loadRules, ruleSetFromText } from '../../../../functions/drift/normalise/rules.ts';
import type { JudgeInput } from '../../../../functions/drift/normalise/types.ts';

const rules = loadRules();
const SA = 'Microsoft.Storage/storageAccounts';
const PA = 'Microsoft.Authorization/policyAssignments';
const j = (input: Partial<JudgeInput> & { desired: unknown; live: unknown }) => judge({ resourceType: SA, ...input }, rules);

test('identical bodies are noise with nothing suppressed', () => {
  const body = { location: 'westeurope', properties: { a: [1, { b: 'c' }] } };
  assert.equal(j({ desired: body, live: structuredClone(body) }), { verdict: 'noise', differences: [], suppressed: [], suppressedBy: [] });
});

test('read-only: provisioningState, etag, id/name/type/systemData, timestamps', () => {
  const r = j({
    desired: { properties: { minimumTlsVersion: 'TLS1_2' } },
    live: { id: '/x', name: 'sa', type: SA, etag: 'W/"1"', systemData: { createdAt: 'now' }, properties: { minimumTlsVersion: 'TLS1_2', provisioningState: 'Succeeded', creationTime: '2024' } },
  });
  assert.is(r.verdict, 'noise');
  assert.equal(r.suppressedBy, ['read-only:identity', 'read-only:provisioningState', 'read-only:timestamps']);
  assert.ok(r.suppressed.some((s) => s.path === 'properties.provisioningState' && s.rule === 'read-only:provisioningState'));
});

test('policy metadata createdBy/updatedOn is read-only, but a changed category is drift', () => {
  const desired = { properties: { metadata: { category: 'Storage' } } };
  const noise = judge({ resourceType: 'Microsoft.Authorization/policyDefinitions', desired, live: { properties: { metadata: { category: 'Storage', createdBy: 'u', createdOn: 't', updatedBy: 'u', updatedOn: 't' } } } }, rules);
  assert.is(noise.verdict, 'noise');
  assert.equal(noise.suppressedBy, ['read-only:policy-metadata']);
  const drift = judge({ resourceType: 'Microsoft.Authorization/policyDefinitions', desired, live: { properties: { metadata: { category: 'Network', createdBy: 'u' } } } }, rules);
  assert.equal(drift.differences, [{ path: 'properties.metadata.category', desired: 'Storage', live: 'Network' }]);
});

test('resource ids compare case-insensitively anywhere; other strings do not', () => {
  const id = '/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v/subnets/a';
  const r = j({ desired: { properties: { networkAcls: { defaultAction: 'Deny', virtualNetworkRules: [{ id }] } } }, live: { properties: { networkAcls: { defaultAction: 'Deny', virtualNetworkRules: [{ id: id.toLowerCase() }] } } } });
  assert.is(r.verdict, 'noise');
  assert.equal(r.suppressed, [{ path: 'properties.networkAcls.virtualNetworkRules[0].id', rule: 'case-insensitive-id' }]);
  const other = j({ desired: { properties: { accessTier: 'Cool' } }, live: { properties: { accessTier: 'cool' } } });
  assert.is(other.verdict, 'drift');
  const notAnId = j({ desired: { properties: { x: 'subscriptions/A' } }, live: { properties: { x: 'subscriptions/a' } } });
  assert.is(notAnId.verdict, 'drift');
});

test('location display names equal their programmatic names; another region is drift', () => {
  assert.equal(j({ desired: { location: 'West Europe' }, live: { location: 'westeurope' } }).suppressedBy, ['location']);
  assert.is(j({ desired: { location: 'East US 2' }, live: { location: 'eastus2' } }).verdict, 'noise');
  assert.is(j({ desired: { location: 'West Europe' }, live: { location: 'northeurope' } }).verdict, 'drift');
  assert.is(j({ desired: { location: 'westeurope' }, live: { location: 'westus' } }).verdict, 'drift');
});

test('a service default where desired is absent is noise; a non-default value is drift', () => {
  assert.equal(j({ desired: { properties: {} }, live: { properties: { accessTier: 'Hot' } } }).suppressedBy, ['default:storage']);
  const r = j({ desired: { properties: {} }, live: { properties: { accessTier: 'Cool' } } });
  assert.equal(r.differences, [{ path: 'properties.accessTier', desired: undefined, live: 'Cool' }]);
  // Defaults are per type: a Key Vault's accessTier is not covered.
  assert.is(judge({ resourceType: 'Microsoft.KeyVault/vaults', desired: { properties: {} }, live: { properties: { accessTier: 'Hot' } } }, rules).verdict, 'drift');
});

test('without a baseline, a live property no rule covers is drift', () => {
  const r = j({ desired: { properties: {} }, live: { properties: { somethingNew: 'on' } } });
  assert.equal(r.differences, [{ path: 'properties.somethingNew', desired: undefined, live: 'on' }]);
});

test('empty array or object equals absent; a non-empty one does not; null equals absent', () => {
  assert.is(j({ desired: { properties: { x: 1 } }, live: { properties: { x: 1, ipRules: [], extra: {}, y: null } } }).verdict, 'noise');
  assert.is(j({ desired: { properties: { ipRules: [] } }, live: { properties: {} } }).verdict, 'noise');
  assert.is(j({ desired: { properties: { ipRules: ['a'] } }, live: { properties: { ipRules: [] } } }).verdict, 'drift');
});

test('null tags equal {}, but a removed tag is drift', () => {
  assert.equal(j({ desired: { tags: {} }, live: { tags: null } }).suppressedBy, ['null-tags']);
  assert.equal(j({ desired: { tags: null }, live: { tags: {} } }).suppressedBy, ['null-tags']);
  const r = j({ desired: { tags: { owner: 'a', env: 'p' } }, live: { tags: { env: 'p' } } });
  assert.equal(r.differences, [{ path: 'tags.owner', desired: 'a', live: undefined }]);
});

test('order-insensitive arrays by key: reordered is noise, a changed element is drift at its leaf', () => {
  const desired = { properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '1.1.1.1', action: 'Allow' }, { value: '2.2.2.2', action: 'Allow' }] } } };
  assert.is(j({ desired, live: { properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '2.2.2.2', action: 'Allow' }, { value: '1.1.1.1', action: 'Allow' }] } } } }).verdict, 'noise');
  const r = j({ desired, live: { properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '2.2.2.2', action: 'Allow' }, { value: '0.0.0.0/0', action: 'Allow' }] } } } });
  assert.equal(r.differences, [{ path: 'properties.networkAcls.ipRules[0].value', desired: '1.1.1.1', live: '0.0.0.0/0' }]);
});

test('order-insensitive arrays without a key; an ordered list (DNS servers) keeps its order', () => {
  const RD = 'Microsoft.Authorization/roleDefinitions';
  assert.is(judge({ resourceType: RD, desired: { properties: { permissions: [{ actions: ['a/read', 'b/read'] }] } }, live: { properties: { permissions: [{ actions: ['B/read', 'a/read'].map((x) => x.toLowerCase()) }] } } }, rules).verdict, 'noise');
  assert.is(judge({ resourceType: RD, desired: { properties: { permissions: [{ actions: ['a/read'] }] } }, live: { properties: { permissions: [{ actions: ['a/read', '*'] }] } } }, rules).verdict, 'drift');
  const VN = 'Microsoft.Network/virtualNetworks';
  const r = judge({ resourceType: VN, desired: { properties: { dhcpOptions: { dnsServers: ['10.0.0.4', '10.0.0.5'] } } }, live: { properties: { dhcpOptions: { dnsServers: ['10.0.0.5', '10.0.0.4'] } } } }, rules);
  assert.is(r.verdict, 'drift');
});

test('policy parameters with and without the value wrapper; a changed value is drift', () => {
  const desired = { properties: { parameters: { effect: 'Deny', list: { value: ['a'] } } } };
  const noise = judge({ resourceType: PA, desired, live: { properties: { parameters: { effect: { value: 'Deny' }, list: ['a'] } } } }, rules);
  assert.equal(noise.suppressedBy, ['policy-parameter-value']);
  assert.is(noise.verdict, 'noise');
  const drift = judge({ resourceType: PA, desired, live: { properties: { parameters: { effect: { value: 'Audit' }, list: { value: ['a'] } } } } }, rules);
  assert.equal(drift.differences, [{ path: 'properties.parameters.effect', desired: 'Deny', live: 'Audit' }]);
});

test('policy rules as data: a JSON string equals the object; a changed condition is drift', () => {
  const rule = { if: { allOf: [{ field: 'type', equals: 'Microsoft.Storage/storageAccounts' }, { field: 'x', exists: true }] }, then: { effect: 'deny' } };
  const PD = 'Microsoft.Authorization/policyDefinitions';
  assert.is(judge({ resourceType: PD, desired: { properties: { policyRule: JSON.stringify(rule, null, 2) } }, live: { properties: { policyRule: rule } } }, rules).verdict, 'noise');
  // allOf is a set: its members reordered are the same rule.
  const reordered = { ...rule, if: { allOf: [rule.if.allOf[1], rule.if.allOf[0]] } };
  assert.is(judge({ resourceType: PD, desired: { properties: { policyRule: rule } }, live: { properties: { policyRule: JSON.stringify(reordered) } } }, rules).verdict, 'noise');
  const edited = JSON.stringify({ ...rule, then: { effect: 'audit' } });
  const r = judge({ resourceType: PD, desired: { properties: { policyRule: rule } }, live: { properties: { policyRule: edited } } }, rules);
  assert.equal(r.differences, [{ path: 'properties.policyRule.then.effect', desired: 'deny', live: 'audit' }]);
});

test('a JSON string nested too deep stays a string (and is drift against the object)', () => {
  const PD = 'Microsoft.Authorization/policyDefinitions';
  const deep = '{"a":'.repeat(200) + '1' + '}'.repeat(200);
  const r = judge({ resourceType: PD, desired: { properties: { policyRule: JSON.parse(deep) } }, live: { properties: { policyRule: deep } } }, rules);
  assert.is(r.verdict, 'drift');
  assert.is(typeof r.differences[0].live, 'string');
});

test('number vs numeric string only where a rule says so', () => {
  const WEB = 'Microsoft.Web/sites';
  assert.is(judge({ resourceType: WEB, desired: { properties: { siteConfig: { x: 30 } } }, live: { properties: { siteConfig: { x: '30' } } } }, rules).verdict, 'noise');
  assert.is(judge({ resourceType: WEB, desired: { properties: { siteConfig: { x: 30 } } }, live: { properties: { siteConfig: { x: '31' } } } }, rules).verdict, 'drift');
  assert.is(j({ desired: { properties: { x: 30 } }, live: { properties: { x: '30' } } }).verdict, 'drift');
});

test('baseline: a never-set property equal to the baseline is noise; moved away from it is drift', () => {
  const desired = { properties: { minimumTlsVersion: 'TLS1_2' } };
  const baseline = { properties: { minimumTlsVersion: 'TLS1_2', allowCrossTenantReplication: true, custom: { a: 1 } } };
  const same = j({ desired, baseline, live: structuredClone(baseline) });
  assert.is(same.verdict, 'noise');
  assert.equal(same.suppressedBy, ['baseline-default']);
  // The shipped default says `false` is the default; the baseline says this tenant's was `true`, so `false` is a person's change.
  const moved = j({ desired, baseline, live: { properties: { minimumTlsVersion: 'TLS1_2', allowCrossTenantReplication: false, custom: { a: 2 } } } });
  assert.equal(moved.differences, [
    { path: 'properties.allowCrossTenantReplication', desired: undefined, live: false },
    { path: 'properties.custom.a', desired: undefined, live: 2 },
  ]);
  // Without the baseline the shipped default decides the same body.
  assert.equal(j({ desired, live: { properties: { minimumTlsVersion: 'TLS1_2', allowCrossTenantReplication: false } } }).verdict, 'noise');
});

test('baseline: a property the desired body sets is judged against desired, not the baseline', () => {
  const r = j({ desired: { properties: { minimumTlsVersion: 'TLS1_2' } }, baseline: { properties: { minimumTlsVersion: 'TLS1_0' } }, live: { properties: { minimumTlsVersion: 'TLS1_0' } } });
  assert.equal(r.differences, [{ path: 'properties.minimumTlsVersion', desired: 'TLS1_2', live: 'TLS1_0' }]);
});

test('ownedPaths suppress with the owner as the rule; childPaths with child-resource', () => {
  const owner = 'policy-modify:/providers/Microsoft.Management/managementGroups/c/providers/Microsoft.Authorization/policyAssignments/Inherit-Tags';
  const r = j({ desired: { tags: { app: 'x' } }, live: { tags: { app: 'x', costCenter: 'CC1' } }, ownedPaths: [{ path: 'tags.costCenter', owner }] });
  assert.equal(r, { verdict: 'noise', differences: [], suppressed: [{ path: 'tags.costCenter', rule: owner }], suppressedBy: [owner] });
  const whole = j({ desired: { tags: { app: 'x' } }, live: { tags: { app: 'y', a: '1' } }, ownedPaths: [{ path: 'tags.*', owner }] });
  assert.is(whole.verdict, 'noise');
  const notOwned = j({ desired: { tags: { app: 'x' } }, live: { tags: { app: 'x', other: '1' } }, ownedPaths: [{ path: 'tags.costCenter', owner }] });
  assert.is(notOwned.verdict, 'drift');
  const VN = 'Microsoft.Network/virtualNetworks';
  const child = judge({ resourceType: VN, desired: { properties: { addressSpace: { addressPrefixes: ['10.0.0.0/16'] } } }, live: { properties: { addressSpace: { addressPrefixes: ['10.0.0.0/16'] }, subnets: [{ name: 'a', properties: { addressPrefix: '10.0.1.0/24' } }] } }, childPaths: ['properties.subnets'] }, rules);
  assert.equal(child.suppressedBy, ['child-resource']);
  assert.is(child.verdict, 'noise');
});

test('an unmanaged resource (desired null) and a deleted one (live null) are drift', () => {
  assert.equal(judge({ resourceType: 'Microsoft.Authorization/roleAssignments', desired: null, live: { properties: { principalId: 'p' } } }, rules).differences, [{ path: '', desired: null, live: { properties: { principalId: 'p' } } }]);
  assert.is(j({ desired: { properties: {} }, live: null }).verdict, 'drift');
  assert.is(j({ desired: undefined, live: undefined }).verdict, 'noise');
});

test('a server-set id inside an element desired describes is noise; an added reference is drift', () => {
  const SN = 'Microsoft.Network/virtualNetworks/subnets';
  assert.is(judge({ resourceType: SN, desired: { properties: { delegations: [{ name: 'd', properties: { serviceName: 'Microsoft.Web/serverFarms' } }] } }, live: { properties: { delegations: [{ name: 'd', id: '/subscriptions/s/x', type: 'Microsoft.Network/virtualNetworks/subnets/delegations', properties: { serviceName: 'Microsoft.Web/serverFarms' } }] } } }, rules).verdict, 'noise');
  const r = judge({ resourceType: SN, desired: { properties: { addressPrefix: '10.0.1.0/24' } }, live: { properties: { addressPrefix: '10.0.1.0/24', networkSecurityGroup: { id: '/subscriptions/s/nsg' } } } }, rules);
  assert.equal(r.differences, [{ path: 'properties.networkSecurityGroup.id', desired: undefined, live: '/subscriptions/s/nsg' }]);
});

test('an added object of only read-only properties is still an addition (a second identity)', () => {
  const WEB = 'Microsoft.Web/sites';
  const uai = (n: string) => `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`;
  const desired = { identity: { type: 'UserAssigned', userAssignedIdentities: { [uai('a')]: {} } } };
  const one = { identity: { type: 'UserAssigned', userAssignedIdentities: { [uai('a')]: { principalId: 'p1', clientId: 'c1' } } } };
  assert.is(judge({ resourceType: WEB, desired, live: one }, rules).verdict, 'noise');
  const two = structuredClone(one) as { identity: { userAssignedIdentities: Record<string, unknown> } };
  two.identity.userAssignedIdentities[uai('b')] = { principalId: 'p2', clientId: 'c2' };
  const r = judge({ resourceType: WEB, desired, live: two, baseline: one }, rules);
  assert.equal(r.differences, [{ path: `identity.userAssignedIdentities.${uai('b')}`, desired: undefined, live: { principalId: 'p2', clientId: 'c2' } }]);
});

test('server-set with an unset value: osDiskSizeGB 0 means the default; another size is drift', () => {
  const MC = 'Microsoft.ContainerService/managedClusters';
  const pool = (size: number) => ({ properties: { agentPoolProfiles: [{ name: 'system', osDiskSizeGB: size }] } });
  assert.equal(judge({ resourceType: MC, desired: pool(0), live: pool(128) }, rules).suppressedBy, ['server-set:aks-os-disk-size']);
  assert.is(judge({ resourceType: MC, desired: pool(256), live: pool(128) }, rules).verdict, 'drift');
  // With a baseline, the service's choice is the baseline's value: another size since is drift.
  assert.equal(judge({ resourceType: MC, desired: pool(0), baseline: pool(128), live: pool(128) }, rules).suppressedBy, ['baseline-default']);
  assert.is(judge({ resourceType: MC, desired: pool(0), baseline: pool(128), live: pool(64) }, rules).verdict, 'drift');
});

test('list-or-single: addressPrefixes [x] equals addressPrefix x; two prefixes or another prefix do not', () => {
  const SN = 'Microsoft.Network/virtualNetworks/subnets';
  assert.equal(judge({ resourceType: SN, desired: { properties: { addressPrefixes: ['10.0.1.0/24'] } }, live: { properties: { addressPrefix: '10.0.1.0/24' } } }, rules).suppressedBy, ['subnet-single-prefix']);
  assert.is(judge({ resourceType: SN, desired: { properties: { addressPrefixes: ['10.0.1.0/24'] } }, live: { properties: { addressPrefix: '10.0.2.0/24' } } }, rules).verdict, 'drift');
  assert.is(judge({ resourceType: SN, desired: { properties: { addressPrefixes: ['10.0.1.0/24', '10.0.3.0/24'] } }, live: { properties: { addressPrefix: '10.0.1.0/24' } } }, rules).verdict, 'drift');
});

test('a conditional read-only rule holds only while its live sibling says so', () => {
  const MC = 'Microsoft.ContainerService/managedClusters';
  const pool = (count: number, auto: boolean) => ({ properties: { agentPoolProfiles: [{ name: 'system', count, enableAutoScaling: auto }] } });
  assert.equal(judge({ resourceType: MC, desired: pool(3, true), live: pool(5, true) }, rules).suppressedBy, ['aks-autoscaled-count']);
  assert.is(judge({ resourceType: MC, desired: pool(3, false), live: pool(5, false) }, rules).verdict, 'drift');
});

test('a tenant rule set that leaves a kind out judges that noise as drift (rules are what decide)', () => {
  const none = ruleSetFromText('rules: []');
  assert.is(judge({ resourceType: SA, desired: { location: 'West Europe' }, live: { location: 'westeurope' } }, none).verdict, 'drift');
});

test('differences are reported at leaf paths, arrays as [i]', () => {
  const r = j({ desired: { properties: { a: { b: [{ c: 1 }, { c: 2 }] } } }, live: { properties: { a: { b: [{ c: 1 }, { c: 3 }] } } } });
  assert.equal(r.differences, [{ path: 'properties.a.b[1].c', desired: 2, live: 3 }]);
});

test('fast: 5,000 realistic judgements in well under two seconds of CPU', () => {
  const desired = { location: 'West Europe', tags: { a: '1' }, properties: { networkAcls: { defaultAction: 'Deny', ipRules: Array.from({ length: 20 }, (_, i) => ({ value: `10.0.0.${i}`, action: 'Allow' })) }, encryption: { services: { blob: { enabled: true } } } } };
  const live = { ...structuredClone(desired), id: '/subscriptions/S/x', location: 'westeurope', systemData: { createdAt: 'x' }, properties: { ...structuredClone(desired.properties), provisioningState: 'Succeeded', accessTier: 'Hot', primaryEndpoints: { blob: 'https://x' } } };
  live.properties.networkAcls.ipRules.reverse();
  // CPU time, not wall time: the machine is shared.
  const c0 = process.cpuUsage();
  for (let i = 0; i < 5000; i++) judge({ resourceType: SA, desired, live }, rules);
  const u = process.cpuUsage(c0);
  const ms = (u.user + u.system) / 1000;
  assert.ok(ms < 2000, `${ms} ms`);
});

test.run();

// Local runs follow the production provider: for every resource type the compiler emits (default
// tenant, the ALZ architecture, and a small fixture that places a subscription), the arm-rest backend calls azure-native's REST API version and
// replaces on exactly the properties azure-native replaces on. Both programs run under Pulumi's
// mocks; the provider checked is the one Pulumi serialised, as the engine would run it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as pulumi from '@pulumi/pulumi';
import type * as dynamic from '@pulumi/pulumi/dynamic/index.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { alzLibraryDir, compile, compileDefaultTenant } from '../../../stacks/compile/index.ts';
import type { DesiredResource, DesiredState } from '../../../stacks/compile/model.ts';
import { registerStack } from '../../../stacks/compile/program.ts';
import { apiVersionFor, armRestProgram, providerFor } from '../../../stacks/engine/arm-rest-provider.ts';
import { azureNativeToken, readAzureNativeType, replacePaths } from '../../../stacks/engine/azure-native-metadata.ts';

const require = createRequire(import.meta.url);
const PKG = dirname(require.resolve('@pulumi/azure-native/package.json'));
const FIX = new URL('../../fixtures/compile/', import.meta.url).pathname;

interface Registered { type: string; name: string; inputs: Record<string, any> }
const registered: Registered[] = [];

let states: { name: string; state: DesiredState }[] = [];
/** Per resource id: the type the azure-native program registers it as, and the arm-rest inputs. */
const azureNativeType = new Map<string, string>();
const armRestInputs = new Map<string, Record<string, any>>();

test.before(async () => {
  // Set here, not at import: uvu imports every file of a run before any suite runs, and another
  // file's mocks (or an engine test's inline program) would otherwise replace these.
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, any> = { ...args.inputs };
        // A policy assignment's managed identity, which role assignments refer to.
        if (args.inputs.identity || args.inputs.body?.identity) state.identity = { type: 'SystemAssigned', principalId: `principal-of-${args.name}` };
        return { id: args.inputs.armId ?? `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    'nexus', 'metadata', true,
  );
  states = [
    { name: 'default tenant', state: await compileDefaultTenant(process.env) },
    { name: 'alz', state: compile({ libraries: [alzLibraryDir()], architecture: 'alz', rootMg: 'tenant-root', location: 'swedencentral' }).state },
    // Neither of those places a subscription or declares an exemption; this fixture does.
    { name: 'fixture', state: compile({ libraries: [`${FIX}base`, `${FIX}nexus`], architecture: 'small-nexus' }).state },
  ];
  for (const { state } of states) {
    for (const s of state.stacks) {
      const created = await registerStack(state, s.name);
      await armRestProgram(state, s.name)();
      await Promise.all([...created.values()].map((r) => new Promise((ok) => r.urn.apply(ok))));
    }
  }
  await pulumi.runtime.disconnect();
  for (const r of registered) {
    if (r.type.startsWith('azure-native:')) azureNativeType.set(r.name, r.type);
    else if (r.type.startsWith('pulumi-nodejs:dynamic/arm:')) armRestInputs.set(r.name, r.inputs);
  }
});

/** One resource of each (kind, ARM type) the compiler emitted, with every resource of that type. */
function emittedTypes(): { sample: DesiredResource; all: DesiredResource[] }[] {
  const by = new Map<string, DesiredResource[]>();
  for (const { state } of states) {
    for (const r of state.resources) {
      const key = `${r.kind} ${r.type}`;
      by.set(key, [...(by.get(key) ?? []), r]);
    }
  }
  return [...by.values()].map((all) => ({ sample: all[0]!, all }));
}

/** azure-native's default API version for a token, read another way: the class's type declarations. */
function declaredApiVersion(token: string): string {
  const [, mod, cls] = token.split(':');
  const index = readFileSync(join(PKG, mod!, 'index.d.ts'), 'utf8');
  const file = new RegExp(`export declare const ${cls}: typeof import\\("\\./([A-Za-z0-9]+)"\\)`).exec(index)![1];
  return /Uses Azure REST API version (\S+?)\.(\s|$)/.exec(readFileSync(join(PKG, mod!, `${file}.d.ts`), 'utf8'))![1]!;
}

/** The provider Pulumi serialised for a resource, loaded as the dynamic provider host loads it. */
function serialisedProvider(inputs: Record<string, any>): dynamic.ResourceProvider {
  const mod: { exports: any } = { exports: {} };
  new Function('exports', 'require', 'module', '__filename', '__dirname', inputs.__provider)(mod.exports, require, mod, '', '');
  return mod.exports.handler();
}

/** Every leaf path of a JSON value (`properties.parameters.effect.value`). */
function leafPaths(v: unknown, prefix = ''): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return prefix ? [prefix] : [];
  return Object.entries(v).flatMap(([k, x]) => leafPaths(x, prefix ? `${prefix}.${k}` : k));
}

function withValue(body: Record<string, any>, path: string, value: unknown): Record<string, any> {
  const copy = structuredClone(body);
  const keys = path.split('.');
  let o: any = copy;
  for (const k of keys.slice(0, -1)) o = o[k] = typeof o[k] === 'object' && o[k] !== null ? o[k] : {};
  o[keys.at(-1)!] = value;
  return copy;
}

test('the compiler emits the kinds this test is about', () => {
  const kinds = new Set(emittedTypes().map((t) => t.sample.kind));
  for (const k of ['managementGroup', 'subscriptionPlacement', 'policyDefinition', 'policySetDefinition', 'roleDefinition', 'policyAssignment', 'policyExemption', 'roleAssignment']) {
    assert.ok(kinds.has(k as DesiredResource['kind']), k);
  }
  assert.is(armRestInputs.size, new Set(states.flatMap((s) => s.state.resources.map((r) => r.id))).size);
});

test('each emitted type maps to the azure-native class the compiler\'s azure-native program creates', () => {
  for (const { all } of emittedTypes()) {
    for (const r of all) assert.is(azureNativeToken(r.kind, r.type), azureNativeType.get(r.id), r.id);
  }
});

test('the backend calls azure-native\'s API version for every emitted resource', () => {
  for (const { sample, all } of emittedTypes()) {
    const token = azureNativeToken(sample.kind, sample.type);
    const version = declaredApiVersion(token);
    assert.is(readAzureNativeType(token).apiVersion, version, token);
    for (const r of all) assert.is(armRestInputs.get(r.id)!.apiVersion, version, r.id);
  }
});

test('the backend replaces on exactly the properties azure-native replaces on, for every emitted type', async () => {
  for (const { sample } of emittedTypes()) {
    const token = azureNativeToken(sample.kind, sample.type);
    const expected = replacePaths(readAzureNativeType(token), true).sort();
    const inputs = armRestInputs.get(sample.id)!;
    const provider = serialisedProvider(inputs);
    const olds = { armId: sample.id, armType: sample.type, apiVersion: inputs.apiVersion, body: structuredClone(inputs.body) as Record<string, any> };
    // Probe every property of the body, and the azure-native paths even where this body lacks them.
    const replacing: string[] = [];
    for (const path of new Set([...leafPaths(olds.body), ...expected])) {
      const d = await provider.diff!(sample.id, olds, { ...olds, body: withValue(olds.body, path, 'changed-value') });
      assert.ok(d.changes, `${token}: a change of ${path} is a change`);
      if (d.replaces?.length) {
        assert.equal(d.replaces, [`body.${path}`], token);
        assert.ok(d.deleteBeforeReplace, token);
        replacing.push(path);
      }
    }
    assert.equal(replacing.sort(), expected, token);
  }
});

test('what azure-native says, confirmed against its provider sources and the REST specs', () => {
  // API versions: the "Uses Azure REST API version" of @pulumi/azure-native 3.28.0 (the same as the
  // compiler writes into the DesiredState). Replacement: only the role assignment's principalId
  // (azure-native's forceNewMap; scope and name are path parameters, so part of the ARM id).
  const seen = Object.fromEntries(emittedTypes().map(({ sample }) => {
    const t = readAzureNativeType(azureNativeToken(sample.kind, sample.type));
    return [t.token, [t.apiVersion, replacePaths(t, true)]];
  }));
  assert.equal(seen, {
    'azure-native:management:ManagementGroup': ['2023-04-01', []],
    'azure-native:management:ManagementGroupSubscription': ['2023-04-01', []],
    'azure-native:authorization:PolicyDefinitionAtManagementGroup': ['2025-01-01', []],
    'azure-native:authorization:PolicySetDefinitionAtManagementGroup': ['2025-01-01', []],
    'azure-native:authorization:RoleDefinition': ['2022-05-01-preview', []],
    'azure-native:authorization:PolicyAssignment': ['2025-01-01', []],
    'azure-native:authorization:PolicyExemption': ['2022-07-01-preview', []],
    'azure-native:authorization:RoleAssignment': ['2022-04-01', ['properties.principalId']],
  });
});

test('a change to a replace-on-change property is a replacement; to another property, an update', async () => {
  // Bodies as the program registered them (a principalId taken from an assignment's identity is resolved).
  const ra = states[0]!.state.resources.find((r) => r.kind === 'roleAssignment')!;
  const provider = serialisedProvider(armRestInputs.get(ra.id)!);
  const olds = { armId: ra.id, armType: ra.type, apiVersion: '2022-04-01', body: structuredClone(armRestInputs.get(ra.id)!.body) as Record<string, any> };
  assert.type(olds.body.properties.principalId, 'string');
  const replaced = await provider.diff!(ra.id, olds, { ...olds, body: withValue(olds.body, 'properties.principalId', '11111111-1111-1111-1111-111111111111') });
  assert.equal(replaced, { changes: true, replaces: ['body.properties.principalId'], deleteBeforeReplace: true });
  const updated = await provider.diff!(ra.id, olds, { ...olds, body: withValue(olds.body, 'properties.description', 'another description') });
  assert.equal(updated, { changes: true, replaces: [], deleteBeforeReplace: false });
  // azure-native updates a role definition id in place (ARM then refuses it, as it does for azure-native).
  const roleChanged = await provider.diff!(ra.id, olds, { ...olds, body: withValue(olds.body, 'properties.roleDefinitionId', '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7') });
  assert.equal(roleChanged, { changes: true, replaces: [], deleteBeforeReplace: false });
  assert.equal(await provider.diff!(ra.id, olds, olds), { changes: false, replaces: [], deleteBeforeReplace: false });
  const moved = await provider.diff!(ra.id, olds, { ...olds, armId: `${ra.id.slice(0, -1)}0` });
  assert.equal(moved.replaces, ['armId']);

  const pa = states[0]!.state.resources.find((r) => r.kind === 'policyAssignment')!;
  const paOlds = { armId: pa.id, armType: pa.type, apiVersion: '2025-01-01', body: structuredClone(armRestInputs.get(pa.id)!.body) as Record<string, any> };
  const paProvider = serialisedProvider(armRestInputs.get(pa.id)!);
  assert.equal(
    await paProvider.diff!(pa.id, paOlds, { ...paOlds, body: withValue(paOlds.body, 'properties.enforcementMode', 'DoNotEnforce') }),
    { changes: true, replaces: [], deleteBeforeReplace: false },
  );
});

test('an archetype resource of any azure-native type gets that type\'s API version and replace paths', async () => {
  const rg: DesiredResource = {
    id: '/providers/Microsoft.Management/managementGroups/x/providers/Nexus/resources/rg', kind: 'resource',
    type: 'azure-native:resources:ResourceGroup', apiVersion: '', name: 'rg', scope: '/providers/Microsoft.Management/managementGroups/x',
    stack: 'x', body: { properties: { resourceGroupName: 'rg', location: 'westeurope' } }, dependsOn: [], source: { file: 'test' },
  };
  assert.is(apiVersionFor(rg), declaredApiVersion('azure-native:resources:ResourceGroup'));
  const provider = providerFor([rg]);
  const olds = { armId: rg.id, armType: rg.type, apiVersion: apiVersionFor(rg), body: rg.body };
  const moved = await provider.diff!(rg.id, olds, { ...olds, body: { properties: { resourceGroupName: 'rg', location: 'swedencentral' } } });
  assert.equal(moved.replaces, ['body.properties.location']);
  const tagged = await provider.diff!(rg.id, olds, { ...olds, body: { properties: { ...rg.body.properties, tags: { a: 'b' } } } });
  assert.equal(tagged.replaces, []);
});

test('a class\'s own replaceOnChanges is read; unknown modules, classes and tokens are named', () => {
  // A package laid out as azure-native's generated one, with a class that forces replacements.
  const dir = mkdtempSync(join(tmpdir(), 'nexus-azure-native-'));
  mkdirSync(join(dir, 'widgets'));
  writeFileSync(join(dir, 'widgets', 'index.js'), 'utilities.lazyLoad(exports, ["Widget"], () => require("./widget"));\n');
  writeFileSync(join(dir, 'widgets', 'widget.js'), [
    '/**', ' * A widget', ' *', ' * Uses Azure REST API version 2024-10-01-preview. In version 2.x it used 2021-01-01.', ' */',
    'class Widget extends pulumi.CustomResource {', "    static __pulumiType = 'azure-native:widgets:Widget';",
    '    constructor(name, args, opts) {', '        const replaceOnChanges = { replaceOnChanges: ["size", "color"] };',
    '        opts = pulumi.mergeOptions(opts, replaceOnChanges);', '    }', '}',
  ].join('\n'));
  assert.equal(readAzureNativeType('azure-native:widgets:Widget', dir), {
    token: 'azure-native:widgets:Widget', apiVersion: '2024-10-01-preview', replaceOnChanges: ['color', 'size'], file: join(dir, 'widgets', 'widget.js'),
  });
  assert.throws(() => readAzureNativeType('azure-native:gadgets:Gadget', dir), /has no module gadgets/);
  assert.throws(() => readAzureNativeType('azure-native:widgets:Gizmo', dir), /widgets module has no resource class Gizmo/);
  assert.throws(() => readAzureNativeType('aws:s3:Bucket', dir), /not an azure-native resource token/);
  assert.throws(() => azureNativeToken('roleAssignment', 'Microsoft.Nope/things'), /no azure-native class is known for this ARM type/);
});

test.run();

// spec.resources types are checked at compile time against @pulumi/azure-native, naming file and field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../../stacks/compile/index.ts';
import { resourceTypeProblem } from '../../../../stacks/compile/validate/resource-types.ts';
import { architecture, BASE, tmpLibrary } from '../tmp-library.ts';

function run(resources: string[]) {
  const lib = tmpLibrary({
    'x.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  resources:\n${resources.map((r) => `    - ${r}\n`).join('')}`,
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }, { id: 'more', archetypes: ['x'] }] }),
  });
  const findings = compile({ libraries: [BASE, lib], architecture: 'test' }).state.findings.filter((f) => f.code === 'unknown-resource-type');
  return { lib, findings };
}

test('known azure-native resource classes pass', () => {
  const { findings } = run(['{ name: rg, type: "azure-native:resources:ResourceGroup", inputs: { resourceGroupName: rg } }', '{ name: sa, type: "azure-native:storage:StorageAccount" }']);
  assert.equal(findings, []);
});

test('a token that is not azure-native:<module>:<Resource> is an error naming file and field, once per declaration', () => {
  const { lib, findings } = run(['{ name: ok, type: "azure-native:resources:ResourceGroup" }', '{ name: comp, type: "nexus:index:HubNetwork" }', '{ name: lower, type: "azure-native:resources:resourceGroup" }']);
  assert.equal(findings.map((f) => [f.severity, f.file, f.path]), [
    ['error', `${lib}/x.yaml`, 'spec.resources[1].type'],
    ['error', `${lib}/x.yaml`, 'spec.resources[2].type'],
  ]);
  assert.match(findings[0]!.message, 'resource "comp": type "nexus:index:HubNetwork" is not an azure-native resource type');
});

test('an unknown module or class is an error; a near miss in case is suggested', () => {
  const { findings } = run(['{ name: a, type: "azure-native:nosuchmodule:Thing" }', '{ name: b, type: "azure-native:resources:NoSuchThing" }', '{ name: c, type: "azure-native:storage:Storageaccount" }']);
  assert.equal(findings.map((f) => f.path), ['spec.resources[0].type', 'spec.resources[1].type', 'spec.resources[2].type']);
  assert.match(findings[0]!.message, 'has no module "nosuchmodule"');
  assert.match(findings[1]!.message, 'module "resources" has no resource NoSuchThing');
  assert.match(findings[2]!.message, 'did you mean StorageAccount?');
});

test('functions and data sources are not resource classes', () => {
  assert.match(resourceTypeProblem('azure-native:resources:GetResourceGroup') ?? '', 'has no resource GetResourceGroup');
  assert.is(resourceTypeProblem('azure-native:authorization:PolicyAssignment'), undefined);
});

test.run();

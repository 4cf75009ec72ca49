// The mapping from engine events to a ChangeSet, on events shaped as the CLI writes them
// (the integration tests run the same mapping on the real engine's stream).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import { ChangeSetBuilder, comparable } from '../../../stacks/engine/events.ts';
import { UNKNOWN } from '../../../stacks/engine/property-diff.ts';

const T = 'pulumi-nodejs:dynamic/arm:PolicyAssignment';
const urn = (n: string, t = T) => `urn:pulumi:alz::nexus::${t}::${n}`;
let seq = 0;
const ev = (e: Partial<EngineEvent>): EngineEvent => ({ sequence: seq++, timestamp: 0, ...e }) as EngineEvent;
const step = (op: string, name: string, old?: object, next?: object, extra: object = {}, type = T) => ({
  metadata: {
    op, urn: urn(name, type), type, provider: '',
    ...(old ? { old: { type, urn: urn(name, type), id: name, parent: '', provider: '', inputs: old, outputs: old } } : {}),
    ...(next ? { new: { type, urn: urn(name, type), id: name, parent: '', provider: '', inputs: next, outputs: next } } : {}),
    ...extra,
  },
}) as any;
const body = (effect: string, extra = {}) => ({ armId: '/a', armType: 'Microsoft.Authorization/policyAssignments', apiVersion: '2022-06-01', body: { properties: { parameters: { effect: { value: effect } }, ...extra } }, __provider: 'exports.handler = ...' });

test('an arm-rest update shows ARM paths with old and new values; the stack and providers are not changes', () => {
  const b = new ChangeSetBuilder('alz', 'preview');
  b.onEvent(ev({ resourcePreEvent: step('same', 'alz', {}, {}, {}, 'pulumi:pulumi:Stack') }));
  b.onEvent(ev({ resourcePreEvent: step('same', 'default', {}, {}, {}, 'pulumi:providers:pulumi-nodejs') }));
  b.onEvent(ev({ resourcePreEvent: step('update', 'pa', body('Audit'), body('Deny')) }));
  b.onEvent(ev({ resOutputsEvent: step('update', 'pa', body('Audit'), body('Deny')) }));
  b.onEvent(ev({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { update: 1, same: 2 }, policyPacks: {} } }));
  const cs = b.build();
  assert.equal(cs.summary, { create: 0, update: 1, replace: 0, delete: 0, same: 0 });
  assert.equal(cs.engineSummary, { update: 1, same: 2 });
  assert.is(cs.changes.length, 1);
  assert.equal(cs.changes[0].changedKeys, ['properties.parameters.effect.value']);
  assert.equal(cs.changes[0].diffs, [{ path: 'properties.parameters.effect.value', kind: 'update', old: 'Audit', new: 'Deny' }]);
});

test('changes read in the plan order whatever order the engine reported them in; deletes last, by URN', () => {
  const facts = (n: string) => [urn(n), { armType: 'Microsoft.Authorization/policyAssignments', armId: `/${n}`, scope: '/' }] as const;
  const b = new ChangeSetBuilder('alz', 'preview', new Map([facts('first'), facts('second')]));
  b.onEvent(ev({ resourcePreEvent: step('delete', 'z-gone', body('A'), undefined) }));
  b.onEvent(ev({ resourcePreEvent: step('create', 'second', undefined, body('B')) }));
  b.onEvent(ev({ resourcePreEvent: step('delete', 'a-gone', body('A'), undefined) }));
  b.onEvent(ev({ resourcePreEvent: step('update', 'first', body('A'), body('B')) }));
  assert.equal(b.build().changes.map((c) => c.urn), [urn('first'), urn('second'), urn('a-gone'), urn('z-gone')]);
});

test('a replacement is one change, op replace, whatever parts follow', () => {
  const b = new ChangeSetBuilder('alz', 'up');
  b.onEvent(ev({ resourcePreEvent: step('replace', 'ra', body('A'), body('B')) }));
  b.onEvent(ev({ resourcePreEvent: step('create-replacement', 'ra', body('A'), body('B')) }));
  b.onEvent(ev({ resOutputsEvent: step('delete-replaced', 'ra', body('A'), undefined) }));
  const cs = b.build();
  assert.is(cs.changes.length, 1);
  assert.is(cs.changes[0].op, 'replace');
  assert.equal(cs.summary.replace, 1);
});

test('a provider detailed diff (azure-native) is used as given, values looked up in inputs', () => {
  const type = 'azure-native:authorization:PolicyAssignment';
  const old = { displayName: 'x', parameters: { effect: { value: 'Audit' } } };
  const next = { displayName: 'y', parameters: { effect: { value: 'Audit' } } };
  const b = new ChangeSetBuilder('alz', 'preview');
  b.onEvent(ev({ resourcePreEvent: step('update', 'pa', old, next, { detailedDiff: { displayName: { diffKind: 'update', inputDiff: true } } }, type) }));
  assert.equal(b.build().changes[0].diffs, [{ path: 'displayName', kind: 'update', old: 'x', new: 'y' }]);
});

test('a refresh step with different outputs is drift (update); a missing resource is a delete', () => {
  const b = new ChangeSetBuilder('alz', 'refresh-preview');
  b.onEvent(ev({ resOutputsEvent: step('refresh', 'pa', body('Audit'), body('Audit', { enforcementMode: 'DoNotEnforce' })) }));
  b.onEvent(ev({ resOutputsEvent: step('refresh', 'gone', body('Audit'), undefined) }));
  b.onEvent(ev({ resOutputsEvent: step('refresh', 'same', body('Audit'), body('Audit')) }));
  const cs = b.build();
  const op = Object.fromEntries(cs.changes.map((c) => [c.urn, c.op]));
  assert.equal(op, { [urn('pa')]: 'update', [urn('gone')]: 'delete', [urn('same')]: 'same' });
  assert.equal(cs.changes.find((c) => c.urn === urn('pa'))!.diffs, [{ path: 'properties.enforcementMode', kind: 'add', new: 'DoNotEnforce' }]);
});

test('diagnostics lose colour codes and debug chatter; policy events and unknowns are kept', () => {
  const b = new ChangeSetBuilder('alz', 'preview');
  b.onEvent(ev({ diagnosticEvent: { message: '\x1b[31mboom\x1b[0m\n', color: 'raw', severity: 'error', urn: urn('pa') } }));
  b.onEvent(ev({ diagnosticEvent: { message: 'RegisterResource RPC', color: 'raw', severity: 'debug' as any } }));
  b.onEvent(ev({ policyEvent: { message: 'no public IPs', color: '', policyName: 'no-pip', policyPackName: 'p', policyPackVersion: '1', policyPackVersionTag: '1', enforcementLevel: 'mandatory', resourceUrn: urn('pa') } }));
  b.onEvent(ev({ resourcePreEvent: step('create', 'pa', undefined, { ...body('Audit'), body: { properties: { principalId: UNKNOWN } } }) }));
  const cs = b.build();
  assert.equal(cs.diagnostics, [{ severity: 'error', message: 'boom', urn: urn('pa') }]);
  assert.equal(cs.policyEvents, [{ policyName: 'no-pip', message: 'no public IPs', enforcementLevel: 'mandatory', urn: urn('pa') }]);
  assert.equal(cs.unknowns, [{ urn: urn('pa'), path: 'properties.principalId' }]);
  assert.equal(cs.summary.create, 1);
});

test('arm-rest properties read as the ARM resource; the serialised provider is never shown', () => {
  assert.equal(comparable(T, body('Audit')), { id: '/a', apiVersion: '2022-06-01', properties: { parameters: { effect: { value: 'Audit' } } } });
  assert.equal(comparable('azure-native:x:Y', { a: 1, __provider: 'x' }), { a: 1 });
});

test.run();

// Backstage's rules for names, references and kinds, as Nexus reads them (no storage involved).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromBackstage } from '../../../functions/catalog/backstage.ts';
import { ValidationError } from '../../../functions/catalog/kinds.ts';
import { normalizeRef, parseRef, RefError } from '../../../functions/catalog/refs.ts';

const paths = (fn: () => unknown): string[] => {
  try { fn(); } catch (err) { if (err instanceof ValidationError) return err.issues.map((i) => i.path); throw err; }
  return [];
};
const component = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name }, spec: { type: 'service', lifecycle: 'production', owner: 'team-a', ...spec },
});

test('names: 1-63 of A-Z a-z 0-9 - _ ., beginning and ending with a letter or digit; runs of separators allowed', () => {
  for (const ok of ['a', 'stream--gateway', 'a_.b', 'PlaybackOrder', 'x'.repeat(63), 'v1.2.3']) assert.equal(paths(() => fromBackstage(component(ok))), [], ok);
  for (const bad of ['-a', 'a-', '.a', 'a b', 'a/b', 'x'.repeat(64), '']) assert.ok(paths(() => fromBackstage(component(bad))).includes('metadata.name'), bad);
  assert.ok(paths(() => fromBackstage({ ...component('a'), metadata: { name: 'a', namespace: 'Not-Lower' } })).includes('metadata.namespace'));
});

test('references: parseEntityRef\'s rules, the referencing namespace by default, compared case-insensitively', () => {
  assert.equal(parseRef('default/team-a', { kind: 'group', namespace: 'alternative' }), { kind: 'team', namespace: 'default', name: 'team-a' });
  assert.equal(parseRef('team-a', { kind: 'group', namespace: 'alternative' }), { kind: 'team', namespace: 'alternative', name: 'team-a' });
  // A ':' after the first '/' is part of the name (which then breaks the naming rules here).
  assert.throws(() => parseRef('default/x:y', { kind: 'group' }), (e: unknown) => e instanceof RefError && /name 'x:y'/.test((e as Error).message));
  assert.is(normalizeRef('Component:Default/PlaybackOrder'), 'service:default/playbackorder');
  assert.is(normalizeRef('group:stream--ops'), 'team:default/stream--ops');
  for (const empty of [':x', 'group:/x', 'group:default/']) assert.throws(() => parseRef(empty), (e: unknown) => e instanceof RefError, empty);
});

test('kinds Backstage knows today: Environment, AiResource by type, mcp-server APIs, Templates', () => {
  const env = fromBackstage({ apiVersion: 'backstage.io/v1alpha1', kind: 'Environment', metadata: { name: 'prod' }, spec: { lifecycle: 'production' } });
  assert.equal('entity' in env && [env.entity.kind, env.entity.spec], ['Environment', { lifecycle: 'production', stage: 'production' }]);
  const ai = (spec: Record<string, unknown>) => () => fromBackstage({ apiVersion: 'backstage.io/v1alpha1', kind: 'AiResource', metadata: { name: 'r' }, spec: { lifecycle: 'production', owner: 'team-a', ...spec } });
  assert.equal(paths(ai({ type: 'skill', dependsOn: ['airesource:x'] })), []);
  assert.equal(paths(ai({ type: 'rule' })).sort(), ['spec.category', 'spec.rationale']);
  assert.equal(paths(ai({ type: 'plugin' })), ['spec.skills']);
  assert.equal(paths(ai({ type: 'marketplace' })), ['spec.plugins']);
  assert.equal(paths(ai({ type: 'prompt' })), [], 'other types need only the base fields');
  const api = (spec: Record<string, unknown>) => () => fromBackstage({ apiVersion: 'backstage.io/v1alpha1', kind: 'API', metadata: { name: 'a' }, spec: { lifecycle: 'production', owner: 'team-a', ...spec } });
  assert.equal(paths(api({ type: 'mcp-server', remotes: [{ type: 'streamable-http', url: 'http://localhost/mcp' }] })), []);
  assert.equal(paths(api({ type: 'mcp-server' })), ['spec.remotes']);
  assert.equal(paths(api({ type: 'openapi' })), ['spec.definition']);
  const template = { kind: 'Template', metadata: { name: 't' }, spec: { type: 'service', steps: [{ action: 'debug:log' }] } };
  const t = fromBackstage({ apiVersion: 'scaffolder.backstage.io/v1beta3', ...template });
  assert.is('entity' in t && t.entity.kind, 'Template');
  assert.equal(paths(() => fromBackstage({ apiVersion: 'backstage.io/v1alpha1', ...template })), ['apiVersion']);
  assert.equal(paths(() => fromBackstage({ apiVersion: 'scaffolder.backstage.io/v1beta3', ...template, spec: { type: 'service' } })), ['spec.steps']);
});

test.run();

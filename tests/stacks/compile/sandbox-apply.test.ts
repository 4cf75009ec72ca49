// The default tenant's DesiredState, PUT resource by resource (stack by stack, in order) into the local
// ARM sandbox: every body is one ARM accepts, and every dependency exists before it is needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { armConfig, armRequest } from '../../../functions/platform/arm.ts';
import { compileDefaultTenant } from '../../../stacks/compile/index.ts';
import { isOutputRef } from '../../../stacks/compile/model.ts';
import { sandbox } from '../../helpers/sandbox.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

test('every resource of the default tenant is accepted by ARM in DesiredState order', async () => {
  const sb = await sandbox();
  const env = { ...process.env, ...sb.env };
  const cfg = armConfig(loadConfig(env).arm);
  const state = await compileDefaultTenant(env);
  assert.is(state.rootManagementGroupId, sb.tenantId, 'the sandbox tenant root by default');
  const responses = new Map<string, any>();
  // `{ $ref, output }` (a policy assignment's principal) is filled from the response of the resource it names.
  const fill = (v: unknown): unknown => {
    if (isOutputRef(v)) return v.output.split('.').reduce((a: any, k) => a?.[k], responses.get(v.$ref));
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  const byId = new Map(state.resources.map((r) => [r.id, r]));
  const failures: string[] = [];
  for (const s of state.stacks) {
    for (const id of s.resourceIds) {
      const r = byId.get(id)!;
      for (const d of r.dependsOn) assert.ok(responses.has(d), `${id} needs ${d} first`);
      const res = await armRequest('PUT', r.id, { apiVersion: r.apiVersion, body: fill(r.body), cfg });
      if (res.status >= 300) failures.push(`${res.status} ${r.id}: ${JSON.stringify(res.body).slice(0, 200)}`);
      else responses.set(r.id, res.body);
    }
  }
  assert.equal(failures, []);
  const ra = state.resources.find((r) => r.kind === 'roleAssignment' && isOutputRef(r.body.properties.principalId))!;
  const stored = await armRequest('GET', ra.id, { apiVersion: ra.apiVersion, cfg });
  assert.is(stored.status, 200);
  assert.match(String(stored.body.properties.principalId), /^[0-9a-f-]{36}$/);
});

test.run();

// Built-ins missing from the shipped cache are read from ARM (the local ARM sandbox, which serves
// Azure's built-ins) into the writable cache, and the compilation is checked against them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig } from '../../../functions/platform/arm.ts';
import { compileWithAzureBuiltins, fetchBuiltinPolicies } from '../../../functions/platform/builtin-policies.ts';
import { compile, defaultLibraries } from '../../../stacks/compile/index.ts';
import { builtinPoliciesDir } from '../../../stacks/compile/builtins.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const notCached = (fs: { code?: string }[]) => fs.filter((f) => f.code === 'builtin-not-cached');
const SHARED = builtinPoliciesDir();
const BASE = { libraries: defaultLibraries(), architecture: 'nexus-default' };

test('an empty shipped cache: every built-in is fetched from ARM, written in ARM shape, and the warnings go', async () => {
  const sb = await sandbox();
  const shipped = tmp('nexus-shipped-'); // empty: everything must come from ARM
  const writable = join(tmp('nexus-cache-'), 'builtin-policies');
  const opts = { ...BASE, builtinPolicies: shipped, builtinCache: writable };

  const before = compile(opts).state.findings;
  assert.ok(notCached(before).length > 50, `without a cache the ALZ built-ins are unchecked (${notCached(before).length})`);

  const c = await compileWithAzureBuiltins(opts, { cfg: armConfig(loadConfig(sb.env).arm) });
  const reference = compile({ ...BASE, builtinCache: tmp('nexus-cache-') }).state.findings; // the full shipped copy
  assert.equal(notCached(c.state.findings), notCached(reference));
  assert.equal(notCached(c.state.findings), []);
  assert.equal(c.state.findings.filter((f) => f.code === 'builtin-fetch-failed'), []);
  assert.equal(c.state.findings.filter((f) => f.severity === 'error'), []);

  const defs = readdirSync(join(writable, 'policyDefinitions'));
  const sets = readdirSync(join(writable, 'policySetDefinitions'));
  assert.ok(defs.length > 50 && sets.length > 0);
  assert.ok(defs.every((f) => f === f.toLowerCase() && f.endsWith('.json')), 'file names are lowercased ids');
  const one = JSON.parse(readFileSync(join(writable, 'policyDefinitions', defs[0]!), 'utf8'));
  assert.is(one.type, 'Microsoft.Authorization/policyDefinitions');
  assert.is(`${one.name.toLowerCase()}.json`, defs[0]);
  assert.is(one.properties.policyType, 'BuiltIn');
  assert.ok(one.properties.policyRule, 'ARM shape: properties.policyRule');

  // Members of built-in sets arrive in a later round: every member ARM knows is cached too.
  let members = 0;
  for (const s of sets) {
    const set = JSON.parse(readFileSync(join(writable, 'policySetDefinitions', s), 'utf8'));
    for (const m of set.properties.policyDefinitions as { policyDefinitionId: string }[]) {
      const builtin = /^\/providers\/Microsoft\.Authorization\/policyDefinitions\/([^/]+)$/i.exec(m.policyDefinitionId);
      const file = builtin && `${builtin[1]!.toLowerCase()}.json`;
      if (!file || !existsSync(join(SHARED, 'policyDefinitions', file))) continue; // ARM (the sandbox) 404s on it
      members++;
      assert.ok(existsSync(join(writable, 'policyDefinitions', file)), `member ${m.policyDefinitionId} of ${s}`);
    }
  }
  assert.ok(members > 0);

  // The next compilation reads the writable cache: nothing is missing, so nothing is fetched.
  const again = compile(opts);
  const sorted = (ids: string[]) => ids.map((x) => x.toLowerCase()).sort();
  assert.equal(sorted(again.index.builtins.misses()), sorted(compile({ ...BASE, builtinCache: tmp('nexus-cache-') }).index.builtins.misses()), 'only what ARM does not know is missing');
});

test('a built-in ARM does not know (404) stays missing; no file is written', async () => {
  const sb = await sandbox();
  const dir = tmp('nexus-cache-');
  const id = `/providers/Microsoft.Authorization/policyDefinitions/${randomUUID()}`;
  const known = '/providers/Microsoft.Authorization/policySetDefinitions/' + readdirSync(join(SHARED, 'policySetDefinitions'))[0]!.replace(/\.json$/, '');
  const r = await fetchBuiltinPolicies([id, known], dir, { cfg: armConfig(loadConfig(sb.env).arm) });
  assert.equal(r.notFound, [id]);
  assert.equal(r.fetched, [known]);
  assert.equal(r.findings, []);
  assert.equal(readdirSync(join(dir, 'policySetDefinitions')).length, 1);
  assert.not.ok(existsSync(join(dir, 'policyDefinitions')));
});

test('a refused request is a warning naming the request, never a throw', async () => {
  const sb = await sandbox();
  const dir = tmp('nexus-cache-');
  const id = '/providers/Microsoft.Authorization/policyDefinitions/0088bc63-6dee-4a9c-9d29-91cfdc848952';
  const r = await fetchBuiltinPolicies([id, '/providers/Microsoft.Authorization/policyDefinitions/..'], dir, { cfg: armConfig(loadConfig({ ...sb.env, NEXUS_ARM_TOKEN: 'not-a-token' }).arm) });
  assert.equal(r.fetched, []);
  assert.is(r.findings.length, 2);
  const refused = r.findings.find((f) => f.path === id)!;
  assert.is(refused.severity, 'warning');
  assert.is(refused.code, 'builtin-fetch-failed');
  assert.match(refused.message, `GET /providers/Microsoft.Authorization/policyDefinitions/0088bc63-6dee-4a9c-9d29-91cfdc848952?api-version=2023-04-01 returned 401`);
  assert.match(r.findings.find((f) => f.path.endsWith('/..'))!.message, 'not a built-in policy id');
  assert.not.ok(existsSync(join(dir, 'policyDefinitions')));
});

test.run();

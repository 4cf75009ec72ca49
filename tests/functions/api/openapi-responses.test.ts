// The OpenAPI document describes every response: each operation's responses carry a schema (a
// 204 or 304 has no body), and no 2xx is an empty or `any` object.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRoute, z } from '@hono/zod-openapi';
import { apiApp, json } from '../../../functions/api/openapi.ts';
import { harness } from './harness.ts';

type Schema = Record<string, unknown>;
type Doc = { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>; components?: { schemas?: Record<string, Schema> } };

const NO_BODY = new Set(['204', '304']);

/** Whether a schema says what its value is: not `{}`, not an object without properties. */
function describes(doc: Doc, schema: Schema | undefined, seen = new Set<string>()): boolean {
  if (!schema) return false;
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    if (seen.has(ref)) return true;
    const name = ref.replace('#/components/schemas/', '');
    return describes(doc, doc.components?.schemas?.[name], new Set([...seen, ref]));
  }
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const parts = schema[k];
    if (Array.isArray(parts)) return parts.length > 0 && parts.every((p) => describes(doc, p as Schema, seen));
  }
  if (schema.type === 'array') return describes(doc, schema.items as Schema | undefined, seen);
  if (schema.type === 'object') {
    const props = schema.properties as Record<string, unknown> | undefined;
    if (props && Object.keys(props).length > 0) return true;
    // A map (record) is described by what its values are.
    const extra = schema.additionalProperties;
    return typeof extra === 'object' && extra !== null && Object.keys(extra).length > 0;
  }
  return typeof schema.type === 'string' || 'const' in schema || 'enum' in schema;
}

/** Every response of every operation without a usable schema, as `METHOD path status: why`. */
export function undescribed(doc: Doc): string[] {
  const out: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const responses = Object.entries(op.responses ?? {});
      if (!responses.length) out.push(`${method.toUpperCase()} ${path}: no responses`);
      for (const [status, r] of responses) {
        if (NO_BODY.has(status)) continue;
        const where = `${method.toUpperCase()} ${path} ${status}`;
        const contents = Object.values(r.content ?? {});
        if (!contents.length) { out.push(`${where}: no content`); continue; }
        for (const c of contents) {
          if (!c.schema) out.push(`${where}: no schema`);
          else if (status.startsWith('2') && !describes(doc, c.schema)) out.push(`${where}: the schema describes nothing (${JSON.stringify(c.schema)})`);
        }
      }
    }
  }
  return out;
}

test('every response of /api/v1/openapi.json has a schema; no 2xx is an empty or any object', async () => {
  const h = await harness();
  const res = await h.call('GET', '/api/v1/openapi.json', { token: await h.token('alice', ['Developer']) });
  assert.is(res.status, 200);
  const doc = (await res.json()) as Doc;
  const ops = Object.values(doc.paths).flatMap((o) => Object.keys(o));
  assert.ok(ops.length >= 25, `only ${ops.length} operations`);
  assert.equal(undescribed(doc), []);
  // The reconciler's and the webhooks' answers are among them (they were `any` before).
  for (const [path, method, status] of [['/api/v1/runs/{id}', 'get', '200'], ['/api/v1/stacks', 'get', '200'], ['/webhooks/github', 'post', '202'], ['/api/v1/me', 'get', '200']] as const) {
    assert.ok(doc.paths[path]?.[method]?.responses?.[status]?.content?.['application/json']?.schema, `${method} ${path} ${status}`);
  }
});

test('the walker flags an any object, a response without content and one without a schema', () => {
  const app = apiApp();
  app.openapi(createRoute({ method: 'get', path: '/any', responses: { 200: json(z.looseObject({}), 'anything') } }), (c) => c.json({}, 200));
  app.openapi(createRoute({ method: 'get', path: '/bare', responses: { 200: { description: 'no content' } } }), (c) => c.json({}, 200));
  app.openapi(createRoute({ method: 'get', path: '/ok', responses: { 200: json(z.object({ a: z.string() }), 'a'), 204: { description: 'none' } } }), (c) => c.json({ a: 'x' }, 200));
  app.openapi(createRoute({ method: 'get', path: '/list', responses: { 200: json(z.array(z.looseObject({})), 'list of any') } }), (c) => c.json([], 200));
  const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } }) as unknown as Doc;
  const found = undescribed(doc);
  assert.equal(found.map((f) => f.split(':')[0]), ['GET /any 200', 'GET /bare 200', 'GET /list 200']);
});

test.run();

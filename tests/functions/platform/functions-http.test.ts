import { test } from 'uvu';
import * as assert from 'uvu/assert';
import functions from '@azure/functions';
import { Hono } from 'hono';
import { toFunctionsHandler } from '../../../functions/platform/functions-http.ts';

const { HttpRequest } = functions;

const app = new Hono();
app.post('/echo/:name', async (c) => c.json({ name: c.req.param('name'), q: c.req.query('q'), body: await c.req.json(), sig: c.req.header('x-sig') }, 201));
app.get('/plain', (c) => c.text('hello', 200, { 'x-extra': 'yes' }));
app.post('/early', (c) => c.text('too large', 413, { connection: 'close' }));

test('passes method, path, query, headers and body through, and the response back', async () => {
  const handler = toFunctionsHandler(app);
  const res = await handler(new HttpRequest({
    method: 'POST', url: 'https://nexus.example/echo/abc?q=1',
    headers: { 'content-type': 'application/json', 'x-sig': 'sha256=1' }, body: { string: '{"a":1}' },
  }));
  assert.is(res.status, 201);
  assert.equal(JSON.parse(Buffer.from(res.body as Uint8Array).toString()), { name: 'abc', q: '1', body: { a: 1 }, sig: 'sha256=1' });
});

test('GET without body; headers of the response kept', async () => {
  const res = await toFunctionsHandler(app)(new HttpRequest({ method: 'GET', url: 'https://nexus.example/plain' }));
  assert.is(res.status, 200);
  assert.is((res.headers as Record<string, string>)['x-extra'], 'yes');
  assert.is(Buffer.from(res.body as Uint8Array).toString(), 'hello');
});

test("the app's Connection header (hop-by-hop) is not handed to the Functions host", async () => {
  const res = await toFunctionsHandler(app)(new HttpRequest({ method: 'POST', url: 'https://nexus.example/early', body: { string: 'x' } }));
  assert.is(res.status, 413);
  assert.is((res.headers as Record<string, string>).connection, undefined);
});

test.run();

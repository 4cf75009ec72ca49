// An error answered before the request body is read (413 on the declared length, 401, 415) must
// not cost a keep-alive client its next request: real HTTP (@hono/node-server, as functions/server.ts
// serves the app) and one pooled socket reused for a second, valid request.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { harness, type Harness } from './harness.ts';

const t = suite<{ h: Harness; server: ServerType; port: number; token: string }>('keep-alive after an early error');

t.before(async (ctx) => {
  ctx.h = await harness();
  ctx.token = await ctx.h.token('root', ['Admin']);
  ctx.server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: ctx.h.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  ctx.port = (ctx.server.address() as AddressInfo).port;
});
t.after(({ server }) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

interface Answer { status: number; headers: IncomingMessage['headers']; body: string; socket: unknown }

function send(agent: Agent, port: number, method: string, path: string, headers: Record<string, string | number>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, socket: req.socket }));
      res.on('error', reject);
    });
    // Writing a body the server stopped reading may fail once it closes; the answer is what counts.
    req.on('error', (err) => reject(err));
    if (body) req.end(body); else req.end();
  });
}

async function secondRequestWorks(agent: Agent, port: number, token: string) {
  const res = await send(agent, port, 'GET', '/api/v1/entities?limit=1', { authorization: `Bearer ${token}` });
  assert.is(res.status, 200, res.body);
}

t('413 on a body over the limit says Connection: close, and the pool\'s next request succeeds', async ({ port, token }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const big = Buffer.alloc(27 * 1024 * 1024, 0x20);
    const res = await send(agent, port, 'POST', '/api/v1/import', {
      authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': big.length,
    }, big).catch((err: Error) => ({ status: 0, headers: {}, body: err.message, socket: undefined }) as Answer);
    assert.is(res.status, 413, res.body);
    assert.is(res.headers.connection, 'close');
    assert.is(JSON.parse(res.body).field, 'body');
    await secondRequestWorks(agent, port, token);
  } finally {
    agent.destroy();
  }
});

t('401 and 415 answered before the body is read close the connection too; the next request succeeds', async ({ port, token }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const body = Buffer.alloc(4 * 1024 * 1024, 0x20);
    const unauth = await send(agent, port, 'PUT', '/api/v1/killswitch', { 'content-type': 'application/json', 'content-length': body.length }, body);
    assert.is(unauth.status, 401, unauth.body);
    assert.is(unauth.headers.connection, 'close');
    await secondRequestWorks(agent, port, token);
    const text = await send(agent, port, 'PUT', '/api/v1/killswitch', { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'content-length': body.length }, body);
    assert.is(text.status, 415, text.body);
    assert.is(JSON.parse(text.body).field, 'header.content-type');
    await secondRequestWorks(agent, port, token);
  } finally {
    agent.destroy();
  }
});

t('an error after the body was read keeps the connection open', async ({ port, token }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const body = Buffer.from('{"on": "yes"}');
    const bad = await send(agent, port, 'PUT', '/api/v1/killswitch', { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length }, body);
    assert.is(bad.status, 400, bad.body);
    assert.is.not(bad.headers.connection, 'close');
    const next = await send(agent, port, 'GET', '/api/v1/entities?limit=1', { authorization: `Bearer ${token}` });
    assert.is(next.status, 200);
    assert.is(next.socket, bad.socket, 'the same socket is reused');
  } finally {
    agent.destroy();
  }
});

t.run();

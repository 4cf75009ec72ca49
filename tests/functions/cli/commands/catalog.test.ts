// `nexus catalog import` reads what placeholders name, but never makes this machine read other hosts:
// a URL is read only beside the catalog file that names it (same origin, no redirects).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectImport } from '../../../../functions/cli/commands/catalog.ts';

const api = (name: string, text: string) => `apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: ${name}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n    $text: ${text}\n`;

/** A server of `routes` (a route starting `redirect:` answers 302 to the rest), counting its requests. */
async function serve(routes: Record<string, string>): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const body = routes[req.url ?? ''];
    if (body?.startsWith('redirect:')) { res.writeHead(302, { location: body.slice('redirect:'.length) }); res.end(); return; }
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' });
    res.end(body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, hits, server };
}

test('a local file cannot make the CLI fetch a URL; a file read from a URL reads only its own origin', async () => {
  const other = await serve({ '/secret': 'metadata-token' });
  const dir = mkdtempSync(join(tmpdir(), 'nexus-cli-'));
  writeFileSync(join(dir, 'catalog-info.yaml'), api('local-api', `${other.url}/secret`));
  const local = await collectImport(join(dir, 'catalog-info.yaml'), dir);
  assert.equal(local.assets, []);
  assert.equal(other.hits, [], 'the other host was never asked');

  // Served from `site`: its own-origin placeholder is read; another origin's, and a redirect to it, are not.
  const site = await serve({
    '/catalog-info.yaml': api('remote-api', './openapi.yaml') + '---\n' + api('stolen-api', `${other.url}/secret`) + '---\n' + api('redirected-api', './redirect'),
    '/openapi.yaml': 'openapi: 3.0.0\n',
    '/redirect': `redirect:${other.url}/secret`,
  });
  try {
    const remote = await collectImport(`${site.url}/catalog-info.yaml`, dir);
    assert.equal(remote.assets.map((a) => a.name), [`${site.url}/openapi.yaml`]);
    assert.equal(other.hits, [], 'not even through a redirect');
  } finally {
    site.server.close();
    other.server.close();
  }
});

test.run();

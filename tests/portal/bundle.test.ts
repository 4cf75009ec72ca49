// The portal's bundle takes the API's response types from functions/api/schemas as types only:
// it carries no zod and no server module, and stays small.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundlePortal } from '../../portal/assets.ts';

test('the bundle builds without zod or server code, under 80 KB', async () => {
  const script = await bundlePortal();
  // Any zod schema in the bundle would bring its runtime (and its error classes) along.
  assert.not.match(script, /ZodError|\$ZodType|@hono\/zod-openapi/);
  // The server's own modules (schemas, catalog kinds) would show their messages.
  assert.not.match(script, /must be a relation type such as ownedBy/);
  assert.ok(script.length < 80_000, `the bundle is ${script.length} bytes`);
});

test.run();

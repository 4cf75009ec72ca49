// The portal's static files at `/` (portal/assets.ts). They are public paths (app.ts PUBLIC_PATHS):
// the page holds no data, and every /api call it makes carries the user's bearer token.
import { apiApp, type ApiApp } from '../openapi.ts';
import type { ApiDeps } from '../deps.ts';
import { problem } from '../problem.ts';
import { PORTAL_PATHS, portalAssets } from '../../../portal/assets.ts';

export { PORTAL_PATHS } from '../../../portal/assets.ts';

export function portalRoutes(deps: ApiDeps): ApiApp {
  const app = apiApp();
  const assets = portalAssets(() => ({
    localIssuer: !!deps.localIssuer,
    entraTenantId: deps.portal?.entraTenantId,
    audience: deps.portal?.audience,
  }));
  for (const path of PORTAL_PATHS) {
    app.get(path, async (c) => {
      let a;
      try {
        a = await assets.get(path);
      } catch (err) {
        console.error(`[portal] ${path}: ${(err as Error).message}`);
        return problem(c, 500, `the portal could not be built; the server log has the details`);
      }
      const headers = { 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...a.headers };
      if (c.req.header('if-none-match') === a.etag) return c.body(null, 304, headers);
      return c.body(a.body, 200, headers);
    });
  }
  return app;
}

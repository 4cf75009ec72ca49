// Every route module of the API, each its own app, mounted in order. Add a module with one line
// here; its paths are authenticated by the app unless listed in PUBLIC_PATHS (app.ts).
import type { ApiDeps } from '../deps.ts';
import type { ApiApp } from '../openapi.ts';
import { catalogRoutes } from './catalog.ts';
import { importRoutes } from './import.ts';
import { webhookRoutes } from './webhooks.ts';
import { reconcileRoutes } from './reconcile.ts';
import { portalRoutes } from './portal.ts';
import { gitopsRoutes } from './gitops.ts';
import { driftRoutes } from './drift.ts';

/** The route modules, in the order their routes are matched. */
export function routeModules(deps: ApiDeps): ApiApp[] {
  return [catalogRoutes(deps), importRoutes(deps), webhookRoutes(deps), reconcileRoutes(deps), driftRoutes(deps), gitopsRoutes(deps), portalRoutes(deps)];
}

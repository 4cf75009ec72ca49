// Every route module of the API, registered in order. Add a module with one line here; its
// paths are authenticated by the app unless listed in PUBLIC_PATHS (app.ts).
import type { ApiApp } from '../app.ts';
import type { ApiDeps } from '../deps.ts';
import * as catalog from './catalog.ts';
import * as catalogImport from './import.ts';
import * as webhooks from './webhooks.ts';
import * as reconcile from './reconcile.ts';
import * as portal from './portal.ts';

export function registerRoutes(app: ApiApp, deps: ApiDeps): void {
  catalog.register(app, deps);
  catalogImport.register(app, deps);
  webhooks.register(app, deps);
  reconcile.register(app, deps);
  portal.register(app, deps);
}

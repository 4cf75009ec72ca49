// Runs a fetch-style app (Hono) behind an Azure Functions HTTP trigger, so the same handlers
// serve locally (@hono/node-server) and in Azure Functions.
import type { HttpRequest, HttpResponseInit } from '@azure/functions';

export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

export function toFunctionsHandler(app: FetchApp) {
  return async (request: HttpRequest): Promise<HttpResponseInit> => {
    const hasBody = !['GET', 'HEAD'].includes(request.method.toUpperCase());
    const body = hasBody ? Buffer.from(await request.arrayBuffer()) : undefined;
    const response = await app.fetch(new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body: body && body.length > 0 ? body : undefined,
    }));
    const headers: Record<string, string> = {};
    // Connection is hop-by-hop and the Functions host owns the connection (it has read the whole
    // body before the app runs); passing the app's `Connection: close` on would only confuse it.
    response.headers.forEach((value, key) => { if (key !== 'connection') headers[key] = value; });
    return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
  };
}

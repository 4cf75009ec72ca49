// The portal's static files as the API serves them: the page, the stylesheet, the script (the
// TSX sources and preact from node_modules bundled by esbuild on first request, then kept in
// memory) and the public sign-in configuration. No build step before start; nothing from a CDN.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: string;
  type: string;
  etag: string;
  headers?: Record<string, string>;
}

/** What the sign-in form needs to know: nothing secret (the tenant id is in every token anyway). */
export interface PortalConfig {
  localIssuer: boolean;
  entraTenantId?: string;
  audience?: string;
}

const DIR = fileURLToPath(new URL('./', import.meta.url));

// The page runs only our own bundle and talks only to its own origin.
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** The paths the portal answers; each is public (the page holds no data, every API call needs a token). */
export const PORTAL_PATHS = ['/', '/portal/app.js', '/portal/style.css', '/portal/config.json'] as const;
export type PortalPath = (typeof PORTAL_PATHS)[number];

function asset(body: string, type: string, headers?: Record<string, string>): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, headers };
}

/** Where `node --import tsx portal/build.ts` writes the bundle for packages that ship without esbuild. */
export const PREBUILT = `${DIR}dist/app.js`;

/**
 * The bundle: built from the sources with esbuild when it is installed (locally, always), else the
 * prebuilt file a deployment package carries.
 */
export async function portalScript(): Promise<string> {
  let esbuild: typeof import('esbuild') | undefined;
  try {
    // Loaded only when the portal is first asked for, so the API alone never needs esbuild.
    esbuild = await import('esbuild');
  } catch {
    try {
      return await readFile(PREBUILT, 'utf8');
    } catch {
      throw new Error(`esbuild is not installed and ${PREBUILT} is missing; run \`node --import tsx portal/build.ts\` when packaging`);
    }
  }
  return bundlePortal(esbuild);
}

/** Bundles portal/src/main.tsx with preact into one ES module. */
export async function bundlePortal(esbuild?: typeof import('esbuild')): Promise<string> {
  const { build } = esbuild ?? (await import('esbuild'));
  const result = await build({
    entryPoints: [`${DIR}src/main.tsx`],
    absWorkingDir: DIR,
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export function portalAssets(config: () => PortalConfig) {
  const cache = new Map<string, Promise<Asset>>();
  const load: Record<Exclude<PortalPath, '/portal/config.json'>, () => Promise<Asset>> = {
    '/': async () => asset(await readFile(`${DIR}index.html`, 'utf8'), 'text/html; charset=utf-8', { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' }),
    '/portal/style.css': async () => asset(await readFile(`${DIR}style.css`, 'utf8'), 'text/css; charset=utf-8'),
    '/portal/app.js': async () => asset(await portalScript(), 'text/javascript; charset=utf-8'),
  };
  return {
    async get(path: PortalPath): Promise<Asset> {
      if (path === '/portal/config.json') return asset(JSON.stringify(config()), 'application/json');
      let p = cache.get(path);
      if (!p) {
        p = load[path]();
        cache.set(path, p);
        // A failed build is not cached: the next request tries again.
        p.catch(() => cache.delete(path));
      }
      return p;
    },
  };
}

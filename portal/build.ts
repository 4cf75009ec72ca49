// Writes the portal's bundle to portal/dist/app.js, for deployment packages installed without
// dev dependencies (esbuild). Locally the server bundles on first request and needs no build.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundlePortal, PREBUILT } from './assets.ts';

const script = await bundlePortal();
await mkdir(dirname(PREBUILT), { recursive: true });
await writeFile(PREBUILT, script);
console.log(`[portal] wrote ${PREBUILT} (${script.length} bytes)`);

// `npm run up` writes the endpoints and local secrets of the system it started to
// .nexus/local.env; the CLI reads them so `nexus ...` works against that system with no setup.
// Variables already in the environment win, so pointing the CLI at a real tenant is only env.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the local system keeps its data: `.nexus/` at the repository root unless NEXUS_HOME says otherwise. */
export const NEXUS_HOME = process.env.NEXUS_HOME ?? fileURLToPath(new URL('../../.nexus', import.meta.url));
export const LOCAL_ENV_FILE = join(NEXUS_HOME, 'local.env');

export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]] = JSON.parse(m[2]);
  }
  return vars;
}

export function formatEnvFile(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n';
}

/** Fills unset variables from the local system's env file, when there is one. */
export function loadLocalEnv(file = LOCAL_ENV_FILE, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NEXUS_NO_LOCAL_ENV === '1' || !existsSync(file)) return false;
  for (const [k, v] of Object.entries(parseEnvFile(readFileSync(file, 'utf8')))) {
    if (env[k] === undefined) env[k] = v;
  }
  return true;
}

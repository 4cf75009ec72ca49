// `npm run up` writes the endpoints and local secrets of the system it started to
// .nexus/local.env; the CLI reads them so `nexus ...` works against that system with no setup.
// Variables already in the environment win, so pointing the CLI at a real tenant is only env.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HOME, type Env } from '../runtime/config.ts';

/** The local system's env file in its home (`.nexus/` at the repository root unless NEXUS_HOME says otherwise). */
export function localEnvFile(home: string | undefined): string {
  return join(home || DEFAULT_HOME, 'local.env');
}

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

/**
 * The local system's variables, to fill what `env` leaves unset (main.ts); none when
 * NEXUS_NO_LOCAL_ENV=1 or there is no file. `env` is only read, never changed.
 */
export function readLocalEnv(env: Env, file = localEnvFile(env.NEXUS_HOME)): Record<string, string> {
  if (/^(1|true|on|yes)$/i.test(env.NEXUS_NO_LOCAL_ENV ?? '') || !existsSync(file)) return {};
  return parseEnvFile(readFileSync(file, 'utf8'));
}

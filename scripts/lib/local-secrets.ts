// Secrets of the local system (`npm run up`): generated once and kept under NEXUS_HOME, never in
// the repo. The Pulumi passphrase encrypts the stacks' secrets in .nexus/azurite, so once
// NEXUS_HOME/pulumi-passphrase exists it is the one source of truth: a lost or edited
// local.env must never bring a new passphrase that the existing state cannot be read with.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvFile } from '../../functions/cli/local-env.ts';

export const PASSPHRASE_FILE = 'pulumi-passphrase';

const WEBHOOK_SECRETS = ['NEXUS_GITHUB_WEBHOOK_SECRET', 'NEXUS_ADO_WEBHOOK_SECRET', 'NEXUS_ALERTS_WEBHOOK_SECRET'] as const;

const fresh = () => randomBytes(24).toString('base64url');

/**
 * The passphrase of the local state: the passphrase file when there is one (the same file the
 * engine reads, stacks/engine/backend.ts); else the one an older local.env holds, or a new one,
 * written to the file so that from now on it is the source of truth.
 */
export function localPassphrase(home: string, previous: Record<string, string>): { passphrase: string; source: 'file' | 'local.env' | 'new' } {
  const file = join(home, PASSPHRASE_FILE);
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (!kept) throw new Error(`${file} is empty: restore the passphrase the Pulumi state in ${join(home, 'azurite')} was encrypted with`);
    return { passphrase: kept, source: 'file' };
  }
  const passphrase = previous.NEXUS_PULUMI_PASSPHRASE ?? fresh();
  mkdirSync(home, { recursive: true });
  writeFileSync(file, passphrase + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { passphrase, source: previous.NEXUS_PULUMI_PASSPHRASE ? 'local.env' : 'new' };
}

/** All local secrets: the passphrase as above, webhook secrets kept from local.env or made anew. */
export function localSecrets(home: string, envFile: string): { secrets: Record<string, string>; notes: string[] } {
  const previous = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8')) : {};
  const { passphrase, source } = localPassphrase(home, previous);
  const notes: string[] = [];
  if (previous.NEXUS_PULUMI_PASSPHRASE !== undefined && previous.NEXUS_PULUMI_PASSPHRASE !== passphrase) {
    notes.push(`${envFile} held another NEXUS_PULUMI_PASSPHRASE; using ${join(home, PASSPHRASE_FILE)} (the state is encrypted with it)`);
  }
  if (source === 'local.env') notes.push(`the Pulumi passphrase from ${envFile} is now kept in ${join(home, PASSPHRASE_FILE)}`);
  const secrets: Record<string, string> = { NEXUS_PULUMI_PASSPHRASE: passphrase };
  for (const name of WEBHOOK_SECRETS) secrets[name] = previous[name] ?? fresh();
  return { secrets, notes };
}

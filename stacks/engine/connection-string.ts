// Azure Storage connection strings (`Key=Value;...`). One parser for every reader: the storage
// configuration, the CLI's "is this the local emulator" check and the Pulumi backend. No imports,
// so the engine can use it without loading the storage SDKs.

/**
 * The settings of a connection string, keyed by lower-cased name: Azure reads the keys without
 * regard to case (`accountname=` is `AccountName=`), so lookups must too. Values keep their case and
 * may contain '=' (account keys end in '=='). A Map, because the keys come from the user.
 */
export function parseConnectionString(cs: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of cs.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  return out;
}

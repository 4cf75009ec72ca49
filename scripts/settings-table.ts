// Writes the settings table of README.md from the configuration schema
// (functions/runtime/settings.ts). `--check` only says whether the README is up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withSettingsTable } from '../functions/runtime/settings-table.ts';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const before = readFileSync(README, 'utf8');
const after = withSettingsTable(before);
if (process.argv.includes('--check')) {
  if (before !== after) {
    process.stderr.write('README.md: the settings table differs from functions/runtime/settings.ts; run `npx tsx scripts/settings-table.ts`\n');
    process.exitCode = 1;
  }
} else if (before !== after) {
  writeFileSync(README, after);
  process.stdout.write('README.md: settings table updated\n');
}

// The README's settings table is the schema's: a setting added, removed or redescribed without
// regenerating the README (npx tsx scripts/settings-table.ts) fails here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { settingsTable, withSettingsTable } from '../../../functions/runtime/settings-table.ts';
import { settingNames } from '../../../functions/runtime/settings.ts';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

test('README.md carries the table generated from the schema', () => {
  assert.fixture(README, withSettingsTable(README), 'README.md is stale: run `npx tsx scripts/settings-table.ts`');
});

test('the table lists every setting once', () => {
  const table = settingsTable();
  for (const name of settingNames()) assert.is(table.split(`| \`${name}\` |`).length, 2, name);
});

test('a README whose table differs is caught', () => {
  const stale = withSettingsTable(README).replace(/\| `PORT` \|[^\n]*\n/, '');
  assert.is.not(withSettingsTable(stale), stale);
});

test.run();

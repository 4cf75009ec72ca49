// The allowed signers from the setting's text and the file it names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllowedSignersFileError, MAX_ALLOWED_SIGNERS_BYTES, readAllowedSigners } from '../../../functions/gitops/allowed-signers-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'nexus-signers-'));
const line1 = 'alice@contoso.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1';
const line2 = 'bob@contoso.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2';

test('the text, then the file; neither: undefined', async () => {
  const file = join(dir, 'allowed_signers');
  writeFileSync(file, `${line2}\n`);
  assert.is(await readAllowedSigners({ allowedSigners: `${line1}\n`, allowedSignersFile: file }), `${line1}\n${line2}`);
  assert.is(await readAllowedSigners({ allowedSignersFile: file }), line2);
  assert.is(await readAllowedSigners({ allowedSigners: line1 }), line1);
  assert.is(await readAllowedSigners({}), undefined);
});

test('an unreadable, missing or oversized file: an error naming NEXUS_ALLOWED_SIGNERS_FILE and the path', async () => {
  const big = join(dir, 'big');
  writeFileSync(big, 'x'.repeat(MAX_ALLOWED_SIGNERS_BYTES + 1));
  for (const file of [join(dir, 'missing'), dir, big]) {
    try {
      await readAllowedSigners({ allowedSigners: line1, allowedSignersFile: file });
      assert.unreachable('expected an error');
    } catch (e) {
      assert.instance(e, AllowedSignersFileError);
      assert.match((e as Error).message, /^NEXUS_ALLOWED_SIGNERS_FILE \(/);
      assert.ok((e as Error).message.includes(file));
    }
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { createLogger, maskSecrets, runLogger } from '../../../functions/platform/logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

test('a run logger puts the run id and the stack on every line', () => {
  const { lines, logger } = capture();
  const log = runLogger('run-1', 'alz', logger);
  log.info('one');
  log.warn({ counts: { create: 1 } }, 'two');
  log.child({ step: 'apply' }).error('three');
  assert.is(lines.length, 3);
  for (const l of lines) assert.equal([l.runId, l.stack], ['run-1', 'alz']);
  assert.is(lines[2].step, 'apply');
});

test('secret fields are redacted and secrets inside messages are masked', () => {
  const { lines, logger } = capture();
  logger.info({ token: 'abc', env: { NEXUS_ARM_TOKEN: 'x' }, cfg: { connectionString: 'AccountKey=zzz', password: 'p' }, headers: { authorization: 'Bearer t' } }, 'with fields');
  logger.error('failed: DefaultEndpointsProtocol=http;AccountName=a;AccountKey=SECRETKEY==;BlobEndpoint=x and Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl');
  const text = JSON.stringify(lines);
  for (const secret of ['abc', 'NEXUS_ARM_TOKEN', 'zzz', '"p"', 'Bearer t', 'SECRETKEY', 'eyJzdWIiOiJhbGljZSJ9']) assert.not.ok(text.includes(secret), secret);
  assert.match(String(lines[1].msg), /AccountKey=\[Redacted\]/);
  assert.is(maskSecrets('https://x.blob/c?sv=1&sig=abc%3D&se=2'), 'https://x.blob/c?sv=1&sig=[Redacted]&se=2');
});

test.run();

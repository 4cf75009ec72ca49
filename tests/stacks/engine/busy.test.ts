import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StackBusyError, isLockedMessage, locksFromMessage } from '../../../stacks/engine/busy.ts';

// The CLI's own wording (pkg/backend/diy/lock.go), as the Automation API puts it into CommandError.
const stderr = `error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.
  azblob://pulumi-state/.pulumi/locks/organization/nexus/alz/0b1c7a0e-5d3e-4c1f-9d8e-1a2b3c4d5e6f.json?domain=127.0.0.1%3A41234&protocol=http: created by root@build-7 (pid 4242) at 2026-11-25T09:30:00Z`;

test('lock holders are read from the CLI message', () => {
  assert.ok(isLockedMessage(stderr));
  assert.equal(locksFromMessage(stderr), [{
    key: '.pulumi/locks/organization/nexus/alz/0b1c7a0e-5d3e-4c1f-9d8e-1a2b3c4d5e6f.json',
    username: 'root', hostname: 'build-7', pid: 4242, timestamp: '2026-11-25T09:30:00Z',
  }]);
});

test('the busy error names the stack and who holds it', () => {
  const e = new StackBusyError('alz', locksFromMessage(stderr));
  assert.match(e.message, /^stack alz is busy: another update holds it \(root@build-7 pid 4242 since 2026-11-25T09:30:00Z\)/);
  assert.is(e.name, 'StackBusyError');
});

test('other errors are not taken for a lock', () => {
  assert.not.ok(isLockedMessage('error: preview failed: resource x: ARM PUT failed with 400'));
});

test.run();

// One ARM sandbox per test process, started on first use and stopped when the process exits.
// Tests share its tenant: create resources under names of your own (e.g. a random suffix).
import { startSandbox, type SandboxHandle } from '../../scripts/sandbox/server.ts';

let running: Promise<SandboxHandle> | undefined;

export function sandbox(): Promise<SandboxHandle> {
  if (!running) {
    running = startSandbox();
    running.then((h) => {
      // The listener must not keep a finished test process alive.
      h.unref();
    });
  }
  return running;
}

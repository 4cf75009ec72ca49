// One Azurite per test process, started on first use and stopped when the process exits.
import { startAzurite, type AzuriteHandle } from '../../scripts/lib/azurite.ts';

let running: Promise<AzuriteHandle> | undefined;

export function azurite(): Promise<AzuriteHandle> {
  if (!running) {
    running = startAzurite();
    running.then((h) => {
      const stop = () => void h.stop();
      process.once('exit', stop);
      process.once('SIGINT', () => { stop(); process.exit(130); });
    });
  }
  return running;
}

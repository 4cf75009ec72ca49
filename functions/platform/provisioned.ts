// Tables, blob containers and queues are created on first use, once per storage configuration:
// the creations under way or done live on the configuration object the composition root made
// (StorageConfig.provisioned), so no module keeps state and nothing outlives its configuration.
import type { StorageConfig } from './storage-config.ts';
import { wrapStorageError } from './errors.ts';

/**
 * Runs `create` for `what` (e.g. `table 'runs'`) once per configuration; callers at the same time
 * share it. A failed creation is forgotten, so the next caller tries again.
 */
export function ensureOnce(cfg: StorageConfig, what: string, create: () => Promise<unknown>): Promise<void> {
  let ready = cfg.provisioned.get(what);
  if (!ready) {
    ready = create().then(
      () => undefined,
      (err) => {
        cfg.provisioned.delete(what);
        throw wrapStorageError(err, `${what}: cannot create it`);
      },
    );
    cfg.provisioned.set(what, ready);
  }
  return ready;
}

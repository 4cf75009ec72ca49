// What every CLI command shares: the configuration (read once, from the environment filled by
// .nexus/local.env) and the reconciler opened over it through the composition root. Made by
// main.ts per run, never held in module state.
import { ConfigError, type NexusConfig } from '../runtime/config.ts';
import { openReconcile } from '../runtime/nexus.ts';
import { armConfig } from '../platform/arm.ts';
import { createLogger } from '../platform/logger.ts';
import { storageConfig } from '../platform/storage-config.ts';
import type { ReconcileService } from '../reconcile/service.ts';
import { UserError } from './errors.ts';

export interface CliContext {
  /** The configuration; a mistake is one UserError naming every variable at fault. */
  config(): NexusConfig;
  /** The reconciler over the configured storage; logs go to stderr so --json output stays clean. */
  reconcile(): Promise<ReconcileService>;
}

export function cliContext(load: () => NexusConfig): CliContext {
  let config: NexusConfig | undefined;
  let service: Promise<ReconcileService> | undefined;
  const ctx: CliContext = {
    config() {
      try {
        return (config ??= load());
      } catch (err) {
        if (err instanceof ConfigError) throw new UserError(err.message);
        throw err;
      }
    },
    reconcile() {
      service ??= (async () => {
        const c = ctx.config();
        const logger = createLogger({ level: c.log.level ?? 'warn', destination: process.stderr });
        return openReconcile({ config: c, storage: storageConfig(c.storage), arm: armConfig(c.arm), logger });
      })();
      return service;
    },
  };
  return ctx;
}

// The composition root's parts for tests that build a reconciler or server of their own from an
// environment record (the test's Azurite and sandbox), through the same typed configuration.
import { loadConfig, type Env } from '../../functions/runtime/config.ts';
import { armConfig } from '../../functions/platform/arm.ts';
import { createLogger, type Logger } from '../../functions/platform/logger.ts';
import { storageConfig, type StorageConfig } from '../../functions/platform/storage-config.ts';
import type { ReconcileParts } from '../../functions/reconcile/deps.ts';

export function partsFrom(env: Env, logger?: Logger): ReconcileParts {
  const config = loadConfig(env);
  return { config, storage: storageConfig(config.storage), arm: armConfig(config.arm), logger: logger ?? createLogger({ level: config.log.level }) };
}

/** The storage an environment names, read through the configuration schema as Nexus reads it. */
export function storageFrom(env: Env): StorageConfig {
  return storageConfig(loadConfig(env).storage);
}

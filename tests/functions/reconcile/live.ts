// The real parts for loop tests: Azurite, the ARM sandbox and the Pulumi engine (arm-rest
// backend), with a reconciler whose compile step hands in a small desired state.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { startSandbox, type SandboxHandle } from '../../../scripts/sandbox/server.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { armConfig, armRequest } from '../../../functions/platform/arm.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import { defaultDeps, type ReconcileDeps } from '../../../functions/reconcile/deps.ts';
import { parseGuardrails, type GuardrailsInput } from '../../../functions/reconcile/guardrails.ts';
import { Reconciler } from '../../../functions/reconcile/loop.ts';
import { openStores, type ReconcileStores } from '../../../functions/reconcile/store/index.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { partsFrom } from '../../helpers/config.ts';

export interface Live {
  env: NodeJS.ProcessEnv;
  stores: ReconcileStores;
  tenantRoot: string;
  /** A reconciler over the real engine; `state()` is what "compile" returns at each run. */
  reconciler(state: () => DesiredState, guardrails?: GuardrailsInput, over?: Partial<ReconcileDeps>): Promise<Reconciler>;
  /** Whether the sandbox has the resource (ARM GET). */
  exists(armId: string, apiVersion?: string): Promise<boolean>;
  get(armId: string, apiVersion?: string): Promise<{ status: number; body: any }>;
  /** The ARM sandbox itself (its side door: deployments, policy remediations, subscriptions). */
  sandbox: SandboxHandle;
  /** The sandbox's side door: changes a resource behind Nexus's back (drift), as `changedBy`. */
  sideDoorUpdate(armId: string, patch: Record<string, unknown>, changedBy: string): void;
}

let live: Promise<Live> | undefined;
let sandboxHandle: Promise<SandboxHandle> | undefined;
let users = 0;
let previousCaCerts: string | undefined;

export const unique = (prefix: string) => `${prefix}${randomBytes(3).toString('hex')}`;

/**
 * The shared parts for this test file; call `releaseLive()` in `test.after`. The sandbox is this
 * module's own (not tests/helpers/sandbox.ts) so it can be stopped when the last user is done:
 * a listening server would keep the test process alive.
 */
export function liveParts(): Promise<Live> {
  users++;
  live ??= (async () => {
    sandboxHandle = startSandbox();
    const [az, sb] = await Promise.all([azurite(), sandboxHandle]);
    // The provider runs in a child of the Pulumi CLI and trusts the sandbox's certificate from
    // NODE_EXTRA_CA_CERTS, which children inherit from this process's environment.
    previousCaCerts = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
    const env: NodeJS.ProcessEnv = {
      ...process.env, ...az.env, ...sb.env,
      NEXUS_RESOURCE_BACKEND: 'arm-rest', NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-reconcile-')), NEXUS_LEASE_SECONDS: '15',
    };
    // Rate-limit counters of their own, so cooldowns started here never reach other suites.
    const stores = await openStores(storageConfig(loadConfig(env).storage), { rateLimitsTable: `ratelimitslive${randomBytes(4).toString('hex')}` });
    const cfg = armConfig(loadConfig(env).arm);
    const get = (armId: string, apiVersion = '2023-04-01') => armRequest('GET', armId, { apiVersion, cfg });
    return {
      env, stores, tenantRoot: sb.tenantId,
      async reconciler(state, guardrails = {}, over = {}) {
        const g = parseGuardrails(guardrails);
        const deps = await defaultDeps(partsFrom(env), {
          stores, compile: async () => state(), guardrails: async () => g,
          logger: createLogger({ level: process.env.NEXUS_TEST_LOG ?? 'silent' }), ...over,
        });
        return new Reconciler(deps);
      },
      get,
      sandbox: sb,
      sideDoorUpdate: (armId, patch, changedBy) => { sb.state.update(armId, patch as never, changedBy); },
      exists: async (armId, apiVersion) => (await get(armId, apiVersion)).status === 200,
    };
  })();
  return live;
}

export async function releaseLive(): Promise<void> {
  if (--users > 0) return;
  const sb = sandboxHandle;
  live = undefined;
  sandboxHandle = undefined;
  // Other test files' sandboxes have their own certificates.
  if (previousCaCerts === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = previousCaCerts;
  if (sb) await (await sb).stop();
}

// What the loop needs from the rest of Nexus, as one small port. `defaultDeps()` wires the real
// compiler, engine and storage from the typed configuration (never the environment itself); unit tests of gate decisions may swap in an engine fake, while
// the integration tests use these real parts.
import { hostname } from 'node:os';
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { BlobLease } from '../platform/leases.ts';
import type { CommitInfo, Comparison } from '../platform/git-host/types.ts';
import { archetypesDir, defaultTenantOptions } from '../../stacks/compile/index.ts';
import type { ArmConfig } from '../platform/arm.ts';
import type { NexusConfig } from '../runtime/config.ts';
import { compileWithAzureBuiltins } from '../platform/builtin-policies.ts';
import { backendSettings } from '../../stacks/engine/backend.ts';
import { openStack as openEngineStack, PROJECT } from '../../stacks/engine/index.ts';
import { PulumiCheckpoints } from '../platform/pulumi-checkpoints.ts';
import { leaseHolderLockClearer } from '../platform/pulumi-locks.ts';
import type { Logger } from '../platform/logger.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import { loadGuardrails, type Guardrails } from './guardrails.ts';
import { apiApprovalSource, type ApprovalSource } from './store/approvals.ts';
import { openStores, type ReconcileStores } from './store/index.ts';
import { commitAuthor, trackedCommit, type CommitAuthor } from './tracked-commit.ts';
import { Metrics } from '../platform/metrics.ts';
import type { DriftService } from '../drift/service.ts';

/** The parts of the engine's NexusStack the loop uses. */
export interface EngineStack {
  /** `refresh`: compare with the live tenant (refreshed in memory; a preview writes no state). */
  preview(opts?: { refresh?: boolean }): Promise<ChangeSet>;
  up(opts?: { targets?: string[]; refresh?: boolean }): Promise<ChangeSet>;
  previewRefresh(): Promise<ChangeSet>;
  refresh(): Promise<ChangeSet>;
  exportState(): Promise<unknown>;
  /**
   * The stored state's deployment read straight from the backend, without starting the CLI (the
   * same resources `exportState` gives); undefined when it cannot be read that way.
   */
  storedState?(): Promise<{ resources: unknown[] } | undefined>;
  cancel(): Promise<void>;
  close?(): void;
  /**
   * Timings of the last operation, as the engine reports them: `engineMs` is the Automation API
   * call, during which our own inline program (`programMs`) and event mapping (`mappingMs`) ran.
   */
  readonly lastTimings?: { engineMs: number; programMs?: number; mappingMs?: number };
}

/**
 * Opens the engine's stack; `lease` is the caller's stack lease (it may clear dead processes'
 * locks). Lock-free previews pass none: they never clear a lock, and one they meet is reported.
 */
export interface OpenEngineStack {
  (opts: { state: DesiredState; stack: string; lease?: BlobLease }): Promise<EngineStack>;
}

export interface ReconcileDeps {
  /**
   * The desired state at `commit` (default: the tracked one). The archetypes folder has only its
   * checkout and ignores `commit`; the landing-zone repository compiles exactly that commit.
   */
  compile(commit?: string): Promise<DesiredState>;
  /** The commit `compile()` reads, recorded with runs whose trigger named none. */
  trackedCommit?(): Promise<string | undefined>;
  /** The commit's author as Git records it (the two-person rule: never its approver). */
  commitAuthor?(commit: string): Promise<CommitAuthor | undefined>;
  /**
   * The landing-zone repository's commits after the stack's last applied commit (GitOps): their
   * authors may not approve, their order and signatures are gates. Absent for the archetypes folder.
   */
  commits?: CommitPort;
  openStack: OpenEngineStack;
  guardrails(): Promise<Guardrails>;
  stores: ReconcileStores;
  /** Who this instance is in leases, runs and audit rows. */
  holderId: string;
  /** Lease duration (15..60 s). */
  leaseSeconds: number;
  approvalSources: ApprovalSource[];
  /** Stacks reconciled at once by reconcileAll (NEXUS_RECONCILE_CONCURRENCY). */
  concurrency: number;
  now(): Date;
  logger: Logger;
  /**
   * Look for drift first (refresh preview); when there is some, refresh the state so the preview
   * (and thus the gates) see what an apply would put back. Default on (NEXUS_RECONCILE_REFRESH=0 turns it off).
   */
  refreshFirst: boolean;
  /** Where the reconciler counts runs, gate blocks and apply times (served at /metrics). */
  metrics: Metrics;
  /**
   * Drift from several signals (functions/drift): reports each run's drift, leaves out of the apply
   * what is not to be put back, waits out running deployments. Absent: the refresh preview alone.
   */
  drift?: DriftService;
}

/** What the commit gates need from the landing-zone repository. */
export interface CommitPort {
  /** The repository the commits are of (`github:owner/repo`), recorded on runs as their source. */
  readonly repoId: string;
  /** The tracked branch's head now. */
  head(): Promise<string>;
  history(base: string | undefined, head: string): Promise<Comparison>;
  /** NEXUS_REQUIRE_SIGNED_COMMITS: every commit since the last applied one must verify. */
  requireSigned: boolean;
  /** Verifies one commit's signature against the allowed signers. */
  verify(commit: CommitInfo): Promise<CommitVerdict>;
  /** More names for the people behind these identities (catalog Users: GitHub login, e-mail). */
  aliases?(identities: string[]): Promise<string[]>;
}

export type CommitVerdict =
  | { ok: true; signer?: string }
  | { ok: false; reason: string; message: string };

export function defaultHolderId(): string {
  return `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`;
}

/** What the real deps are made of: the typed configuration and the adapters the composition root opened. */
export interface ReconcileParts {
  config: NexusConfig;
  storage: StorageConfig;
  arm: ArmConfig;
  logger: Logger;
}

/**
 * The real compiler, engine and storage (functions/runtime/nexus.ts calls this once); `over`
 * replaces single parts (an engine fake in gate unit tests, another holder id).
 */
export async function defaultDeps(parts: ReconcileParts, over: Partial<ReconcileDeps> = {}): Promise<ReconcileDeps> {
  const { config, arm } = parts;
  // stacks/ reads its own variables (libraries, backend, CLI) from this record, validated by the config.
  const env = config.engine.env;
  const stores = over.stores ?? (await openStores(parts.storage, { killSwitch: config.reconcile.killSwitch }));
  const unknownToArm = new Set<string>();
  return {
    // Built-ins missing from the caches are read from ARM once, so their parameters and roles are checked.
    compile: async () => (await compileWithAzureBuiltins(defaultTenantOptions(env), { cfg: arm, unknownToArm })).state,
    trackedCommit: () => trackedCommit(archetypesDir()),
    commitAuthor: (commit) => commitAuthor(archetypesDir(), commit),
    openStack: async ({ state, stack, lease }) => {
      const where = backendSettings(env);
      // Only the lease holder may decide that a Pulumi lock belongs to a dead process.
      const staleLocks = where.container && lease
        ? leaseHolderLockClearer(lease, { container: where.container, prefix: where.prefix, cfg: stores.cfg }, { otherHostStaleAfterSeconds: config.engine.lockStaleSeconds })
        : undefined;
      // An azblob backend's state files are read directly: each CLI start (stack select, export) takes seconds.
      const files = where.container ? () => PulumiCheckpoints.open(stores.cfg, where) : undefined;
      const stateExists = files && (async () => !!(await (await files())?.exists(PROJECT, stack)));
      const engine = await openEngineStack({ state, stack, env, staleLocks, stateExists, resourceBackend: config.engine.resourceBackend });
      if (!files) return engine;
      return Object.assign(engine, { storedState: async () => (await files())?.stackDeployment(PROJECT, stack) });
    },
    guardrails: () => loadGuardrails(config.compile.guardrailsFile),
    stores,
    holderId: config.reconcile.holderId ?? defaultHolderId(),
    leaseSeconds: config.reconcile.leaseSeconds,
    concurrency: config.reconcile.concurrency,
    approvalSources: [apiApprovalSource],
    now: () => new Date(),
    logger: parts.logger,
    refreshFirst: config.reconcile.refreshFirst,
    metrics: new Metrics(),
    ...over,
  };
}

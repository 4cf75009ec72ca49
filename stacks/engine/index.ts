// The engine: one Pulumi stack per compiled stack, run through the Automation API with the real
// CLI, inline programs built from the DesiredState, every operation turned into a ChangeSet.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CommandError, ConcurrentUpdateError, LocalWorkspace, Stack, type EngineEvent, type LocalWorkspaceOptions, type PulumiFn,
} from '@pulumi/pulumi/automation/index.js';
import type { DesiredState } from '../compile/model.ts';
import type { ChangeSet } from './changeset.ts';
import { cliEnv, locatePulumi, pulumiCommand } from './cli.ts';
import { EngineConfigError, backendSettings, ensureStateContainer, type BackendSettings } from './backend.ts';
import { armRestProgram, armRestTypeToken, stackResources } from './arm-rest-provider.ts';
import { ChangeSetBuilder, type ArmFacts } from './events.ts';
import { StackBusyError, isLockedMessage, locksFromMessage, type StaleLockClearer } from './busy.ts';

export { StackBusyError, type StaleLockClearer, type StackLock } from './busy.ts';
export { EngineConfigError } from './backend.ts';
export type { ChangeSet } from './changeset.ts';

/**
 * An operation the engine ran and that failed (a provider error, an invalid program). The message
 * holds the engine's error lines; `changeSet` what was seen up to the failure, with diagnostics.
 */
export class EngineOperationError extends Error {
  constructor(readonly stack: string, readonly kind: ChangeSet['kind'], readonly changeSet: ChangeSet, readonly cause: CommandError) {
    const errors = changeSet.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    const fromStderr = String(cause.message).split('\n').filter((l) => /^\s*error:/.test(l)).map((l) => l.trim());
    const lines = [...new Set([...errors, ...fromStderr])];
    super(`${kind} of stack ${stack} failed${lines.length ? `: ${lines.join('; ')}` : ` (${String(cause.message).split('\n').find((l) => l.trim()) ?? 'no output'})`}`);
    this.name = 'EngineOperationError';
  }
}

/** The operation was stopped by `cancel()`; the CLI ended it cleanly and released its lock. */
export class EngineCanceledError extends Error {
  constructor(readonly stack: string, readonly kind: ChangeSet['kind']) {
    super(`${kind} of stack ${stack} was canceled`);
    this.name = 'EngineCanceledError';
  }
}

/** Pulumi project of every Nexus stack (the DIY backend keeps stacks per project). */
export const PROJECT = 'nexus';

export type ResourceBackend = 'azure-native' | 'arm-rest';

export interface OpenStackOptions {
  state: DesiredState;
  stack: string;
  /** Pulumi backend URL; default from NEXUS_PULUMI_BACKEND_URL or the storage settings. */
  backendUrl?: string;
  /** default NEXUS_RESOURCE_BACKEND, else `azure-native`. */
  resourceBackend?: ResourceBackend;
  /** The whole environment for the CLI and providers (PATH, HOME, NEXUS_*): the runtime's config.engine.env. */
  env: NodeJS.ProcessEnv;
  /** Secret config values set on the stack (encrypted by the stack's secrets provider). */
  secrets?: Record<string, string>;
  /** Clears locks of dead processes when an update finds the stack locked (the lease holder's). */
  staleLocks?: StaleLockClearer;
  /**
   * Whether the backend already holds the stack (its state file is there). The stack is then used
   * without the `pulumi stack select` that would only check that (a CLI start per open): every
   * operation names its stack. Without it, or when it says no, the stack is selected or created.
   */
  stateExists?: () => Promise<boolean>;
  /** Progress of long operations (one line per resource step), e.g. for a terminal. */
  onProgress?: (line: string) => void;
}

export interface UpOptions {
  /** URNs or ARM ids of resources to update; the others are left alone. */
  targets?: string[];
  /** Read the live resources first so drift is put back (default true). */
  refresh?: boolean;
}

export interface PreviewOptions {
  /**
   * Read the live resources first (in the preview only; the stored state is not written), so the
   * ChangeSet compares the desired state with the live tenant rather than with the last stored
   * state. Slower: every resource is read. Default false.
   */
  refresh?: boolean;
}

export interface NexusStack {
  readonly name: string;
  preview(opts?: PreviewOptions): Promise<ChangeSet>;
  up(opts?: UpOptions): Promise<ChangeSet>;
  refresh(): Promise<ChangeSet>;
  /** `refresh --preview-only`: what a refresh would change, i.e. drift. Changes nothing. */
  previewRefresh(): Promise<ChangeSet>;
  /** Stops the operations this handle is running (the CLI ends them cleanly and releases its lock). */
  cancel(): Promise<void>;
  outputs(): Promise<Record<string, unknown>>;
  /** The stack's config as the CLI reads it; secret values are shown as `[secret]`. */
  config(): Promise<Record<string, string>>;
  exportState(): Promise<unknown>;
  /** Removes the local working folder. The state stays in the backend. */
  close(): void;
}

/**
 * Timings of the last operation, for the preview benchmark and the reconcile loop. When a stale
 * lock was cleared and the operation run again, they describe the run that gave the ChangeSet.
 */
export interface OperationTimings {
  /** Whole call, from the method's start to the ChangeSet. */
  totalMs: number;
  /** Inside the Automation API call (CLI process, engine, providers). */
  engineMs: number;
  /** Our inline program registering resources (runs in this process, inside engineMs). */
  programMs: number;
  /** Our event handling while the engine ran (inside engineMs). */
  mappingMs: number;
  /** Building the ChangeSet after the engine finished (outside engineMs: Nexus's own time). */
  buildMs: number;
  /** CLI time while opening the stack (version check, select or create, config). */
  setupMs: number;
  /** Nexus's own storage work while opening the stack (creating the state container when needed). */
  storageMs: number;
}

const workDirs = new Set<string>();
process.once('exit', () => { for (const d of workDirs) rmSync(d, { recursive: true, force: true }); });

function caBundle(dir: string, armCa: string, existing?: string): string {
  const parts = [readFileSync(armCa, 'utf8')];
  if (existing && existing !== armCa && existsSync(existing)) parts.push(readFileSync(existing, 'utf8'));
  const file = join(dir, 'ca-bundle.pem');
  writeFileSync(file, parts.join('\n'));
  return file;
}

function armFacts(state: DesiredState, stack: string, backend: ResourceBackend): Map<string, ArmFacts> {
  const m = new Map<string, ArmFacts>();
  if (backend !== 'arm-rest') return m;
  for (const r of stackResources(state, stack)) {
    m.set(urnFor(stack, armRestTypeToken(r.kind), r.id), { armType: r.type, armId: r.id, scope: r.scope });
  }
  return m;
}

export function urnFor(stack: string, type: string, name: string): string {
  return `urn:pulumi:${stack}::${PROJECT}::${type}::${name}`;
}

async function programFor(state: DesiredState, stack: string, backend: ResourceBackend): Promise<PulumiFn> {
  if (backend === 'arm-rest') return armRestProgram(state, stack);
  // Loaded on demand: the azure-native SDK is large and only production runs it.
  const modulePath = '../compile/program.ts';
  const { azureNativeProgram } = (await import(modulePath)) as { azureNativeProgram: (s: DesiredState, stack: string) => PulumiFn };
  return azureNativeProgram(state, stack);
}

/** A stack the backend holds, used as it is: `stack select` would only check that it exists. */
async function existingStack(name: string, program: PulumiFn, opts: LocalWorkspaceOptions): Promise<Stack> {
  const ws = await LocalWorkspace.create({ ...opts, program });
  ws.selectStack = async () => undefined;
  return Stack.select(name, ws);
}

export async function openStack(opts: OpenStackOptions): Promise<NexusStack & { lastTimings?: OperationTimings }> {
  const env = opts.env;
  const backend = (opts.resourceBackend ?? (env.NEXUS_RESOURCE_BACKEND as ResourceBackend | undefined) ?? 'azure-native');
  if (backend !== 'azure-native' && backend !== 'arm-rest') {
    throw new EngineConfigError(`NEXUS_RESOURCE_BACKEND must be azure-native or arm-rest, not ${backend}`);
  }
  if (backend === 'arm-rest' && (!env.NEXUS_ARM_ENDPOINT || !env.NEXUS_ARM_TOKEN)) {
    throw new EngineConfigError('the arm-rest resource backend needs NEXUS_ARM_ENDPOINT and NEXUS_ARM_TOKEN (the ARM sandbox sets both; `npm run up` writes them to .nexus/local.env)');
  }
  const settings: BackendSettings = backendSettings(opts.backendUrl ? { ...env, NEXUS_PULUMI_BACKEND_URL: opts.backendUrl } : env);
  // Both at once; each timed on its own, as one is the CLI's time and the other Nexus's.
  const timed = async <T>(p: Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const v = await p;
    return [v, performance.now() - t];
  };
  const [[cmd, versionMs], [, storageMs]] = await Promise.all([timed(pulumiCommand(env)), timed(ensureStateContainer(settings, env))]);
  let setupMs = versionMs;
  const loc = locatePulumi(env);

  const envVars: Record<string, string> = { ...cliEnv(loc, env), ...settings.env };
  // The arm-rest provider runs in a child of the CLI and reads its endpoint, token and CA from env.
  for (const [k, v] of Object.entries(env)) if (k.startsWith('NEXUS_ARM_') && v !== undefined) envVars[k] = v;

  const inner = await programFor(opts.state, opts.stack, backend);
  const timings: OperationTimings = { totalMs: 0, engineMs: 0, programMs: 0, mappingMs: 0, buildMs: 0, setupMs: 0, storageMs };
  const program: PulumiFn = async () => {
    const t = performance.now();
    try { return await inner(); } finally { timings.programMs += performance.now() - t; }
  };

  const workDir = mkdtempSync(join(tmpdir(), 'nexus-stack-'));
  workDirs.add(workDir);
  // Node reads one extra CA file: the ARM endpoint's CA joins whatever the machine already adds.
  if (env.NEXUS_ARM_CA_FILE) envVars.NODE_EXTRA_CA_CERTS = caBundle(workDir, env.NEXUS_ARM_CA_FILE, env.NODE_EXTRA_CA_CERTS);
  // Plain config goes into the stack's settings file as the workspace is made (what `config
  // set-all --plaintext` would write there), saving a CLI start per open; only secrets, which the
  // stack's secrets provider must encrypt, go through the CLI.
  const config: Record<string, string> = {
    'nexus:stack': opts.stack,
    'nexus:resourceBackend': backend,
    'nexus:rootManagementGroupId': opts.state.rootManagementGroupId,
    'azure-native:location': opts.state.location,
  };
  const secrets: Record<string, { value: string; secret: true }> = {};
  for (const [k, v] of Object.entries(opts.secrets ?? {})) {
    const key = k.includes(':') ? k : `nexus:${k}`;
    delete config[key];
    secrets[key] = { value: v, secret: true };
  }
  const wsOpts: LocalWorkspaceOptions = {
    workDir,
    pulumiCommand: cmd,
    envVars,
    secretsProvider: settings.secretsProvider,
    projectSettings: { name: PROJECT, runtime: 'nodejs', backend: { url: settings.url } },
    stackSettings: { [opts.stack]: { config } },
  };
  const tc = performance.now();
  const known = opts.stateExists ? await opts.stateExists().catch(() => false) : false;
  const stack: Stack = known
    ? await existingStack(opts.stack, program, wsOpts)
    : await LocalWorkspace.createOrSelectStack({ stackName: opts.stack, projectName: PROJECT, program }, wsOpts);
  if (Object.keys(secrets).length > 0) await stack.setAllConfig(secrets);
  setupMs += performance.now() - tc;
  timings.setupMs = setupMs;

  const facts = armFacts(opts.state, opts.stack, backend);
  const running = new Set<AbortController>();

  const toUrns = async (targets: string[]): Promise<string[]> => {
    const byId = new Map<string, string>();
    if (targets.some((t) => !t.startsWith('urn:'))) {
      for (const [urn, f] of facts) byId.set(f.armId.toLowerCase(), urn);
      if (backend !== 'arm-rest') {
        const dep = (await stack.exportStack()).deployment as { resources?: { urn: string; id?: string }[] };
        for (const r of dep.resources ?? []) if (r.id) byId.set(r.id.toLowerCase(), r.urn);
      }
    }
    return targets.map((t) => {
      if (t.startsWith('urn:')) return t;
      const urn = byId.get(t.toLowerCase());
      if (!urn) throw new Error(`target ${t} is neither a URN nor the ARM id of a resource in stack ${opts.stack}`);
      return urn;
    });
  };

  async function run(
    kind: ChangeSet['kind'],
    call: (o: { onEvent: (e: EngineEvent) => void; signal: AbortSignal; color: 'never' }) => Promise<unknown>,
    retried = false,
  ): Promise<ChangeSet> {
    const t0 = performance.now();
    timings.programMs = 0;
    timings.mappingMs = 0;
    timings.buildMs = 0;
    const builder = new ChangeSetBuilder(opts.stack, kind, facts);
    const onEvent = (e: EngineEvent) => {
      const t = performance.now();
      builder.onEvent(e);
      const m = e.resOutputsEvent?.metadata;
      if (opts.onProgress && m && m.type !== 'pulumi:pulumi:Stack') opts.onProgress(`${m.op} ${m.urn.split('::').pop()}`);
      timings.mappingMs += performance.now() - t;
    };
    const ac = new AbortController();
    running.add(ac);
    const te = performance.now();
    let again = false;
    try {
      await call({ onEvent, signal: ac.signal, color: 'never' });
    } catch (err) {
      const text = err instanceof CommandError ? String(err.message) : '';
      if (err instanceof ConcurrentUpdateError || isLockedMessage(text)) {
        if (!retried && opts.staleLocks && (await opts.staleLocks.clearStale({ project: PROJECT, stack: opts.stack })) > 0) {
          again = true;
        } else {
          throw new StackBusyError(opts.stack, locksFromMessage(text), err);
        }
      } else {
        if (ac.signal.aborted) throw new EngineCanceledError(opts.stack, kind);
        if (err instanceof CommandError) throw new EngineOperationError(opts.stack, kind, builder.build(), err);
        throw err;
      }
    } finally {
      running.delete(ac);
      timings.engineMs = performance.now() - te;
    }
    // Run again after the finally, so the new run's timings are the ones kept.
    if (again) return run(kind, call, true);
    const tb = performance.now();
    const cs = builder.build();
    timings.buildMs = performance.now() - tb;
    timings.totalMs = performance.now() - t0;
    return cs;
  }

  const handle: NexusStack & { lastTimings?: OperationTimings } = {
    name: opts.stack,
    get lastTimings() { return { ...timings }; },
    preview: (p = {}) => run('preview', (o) => stack.preview({ ...o, ...(p.refresh ? { refresh: true } : {}) })),
    up: async (o = {}) => {
      const target = o.targets?.length ? await toUrns(o.targets) : undefined;
      return run('up', (x) => stack.up({ ...x, refresh: o.refresh ?? true, ...(target ? { target } : {}) }));
    },
    refresh: () => run('refresh', (o) => stack.refresh(o)),
    previewRefresh: () => run('refresh-preview', (o) => stack.previewRefresh(o)),
    cancel: async () => { for (const ac of running) ac.abort(); },
    outputs: async () => Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value])),
    config: async () => Object.fromEntries(Object.entries(await stack.getAllConfig()).map(([k, v]) => [k, v.secret ? '[secret]' : v.value])),
    exportState: async () => (await stack.exportStack()).deployment,
    close: () => { rmSync(workDir, { recursive: true, force: true }); workDirs.delete(workDir); },
  };
  return handle;
}

// Finds the Pulumi CLI that Nexus runs. Nothing is downloaded at run time: the CLI is built once
// by scripts/build-pulumi.sh (or a pulumi of the pinned version is already installed).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { PulumiCommand } from '@pulumi/pulumi/automation/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The CLI version Nexus is built and tested with (package.json `nexus.pulumiVersion`). */
export const PINNED_PULUMI_VERSION: string = JSON.parse(
  readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
).nexus.pulumiVersion;

export interface CliLocation {
  /** Folder that holds `pulumi` (and, when Nexus built it, the dynamic-provider launcher). */
  binDir: string;
  /** How it was found, for `nexus doctor`. */
  source: 'NEXUS_PULUMI_DIR' | 'PATH' | 'cache';
}

export class PulumiCliNotFoundError extends Error {
  constructor(readonly searched: string[]) {
    super(
      `the Pulumi CLI v${PINNED_PULUMI_VERSION} was not found (looked in ${searched.join(', ')}); ` +
        'run `bash scripts/build-pulumi.sh` and set NEXUS_PULUMI_DIR to the folder it prints',
    );
    this.name = 'PulumiCliNotFoundError';
  }
}

export function cacheBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.NEXUS_TOOLS_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nexus');
  return join(cache, `pulumi-v${PINNED_PULUMI_VERSION}`, 'bin');
}

/** Where the CLI is: NEXUS_PULUMI_DIR, then PATH, then the build cache. The version is checked by `pulumiCommand`. */
export function locatePulumi(env: NodeJS.ProcessEnv = process.env): CliLocation {
  const searched: string[] = [];
  if (env.NEXUS_PULUMI_DIR) {
    searched.push(`NEXUS_PULUMI_DIR=${env.NEXUS_PULUMI_DIR}`);
    if (existsSync(join(env.NEXUS_PULUMI_DIR, 'pulumi'))) return { binDir: env.NEXUS_PULUMI_DIR, source: 'NEXUS_PULUMI_DIR' };
  }
  searched.push('PATH');
  const onPath = (env.PATH ?? '').split(delimiter).find((d) => d && existsSync(join(d, 'pulumi')));
  if (onPath) return { binDir: onPath, source: 'PATH' };
  const cached = cacheBinDir(env);
  searched.push(cached);
  if (existsSync(join(cached, 'pulumi'))) return { binDir: cached, source: 'cache' };
  throw new PulumiCliNotFoundError(searched);
}

const commands = new Map<string, Promise<PulumiCommand>>();

/**
 * The Automation API's handle on the located CLI. `PulumiCommand.get` runs `pulumi version` and
 * refuses a CLI older than the SDK needs (skipVersionCheck stays false). Memoised per folder.
 */
export function pulumiCommand(env: NodeJS.ProcessEnv = process.env): Promise<PulumiCommand> {
  const { binDir } = locatePulumi(env);
  let cmd = commands.get(binDir);
  if (!cmd) {
    // PulumiCommand.get expects the install root, whose `bin/pulumi` is the CLI.
    cmd = PulumiCommand.get({ root: dirname(binDir), skipVersionCheck: false });
    cmd.catch(() => commands.delete(binDir));
    commands.set(binDir, cmd);
  }
  return cmd;
}

export const LAUNCHER = 'pulumi-resource-pulumi-nodejs';

/** Where the engine will find the dynamic-provider launcher (the order of the PATH `cliEnv` builds). */
export function findLauncher(loc: CliLocation, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [loc.binDir, cacheBinDir(env), ...(env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((d) => join(d, LAUNCHER)).find((f) => existsSync(f));
}

/** Absolute path of @pulumi/pulumi's dynamic-provider host, for the launcher (any working directory). */
export function dynamicProviderHost(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@pulumi/pulumi/package.json')), 'cmd', 'dynamic-provider', 'index.js');
}

/**
 * Environment for every CLI invocation: the CLI's folder first on PATH (the engine finds the
 * `pulumi-resource-pulumi-nodejs` launcher there), the provider host's path, no update checks,
 * and no plugin downloads (a missing plugin is an error, not a download).
 */
export function cliEnv(loc: CliLocation): Record<string, string> {
  return {
    // The build cache also holds the launcher when the CLI itself came from elsewhere.
    PATH: [loc.binDir, cacheBinDir(process.env), process.env.PATH ?? ''].filter(Boolean).join(delimiter),
    NEXUS_PULUMI_DYNAMIC_PROVIDER: dynamicProviderHost(),
    NEXUS_NODE: process.execPath,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  };
}

// Finds the Pulumi CLI that Nexus runs. Nothing is downloaded at run time: the CLI is built once
// by scripts/build-pulumi.sh (or a pulumi of the pinned version is already installed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { PulumiCommand } from '@pulumi/pulumi/automation/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The CLI version Nexus is built and tested with (package.json `nexus.pulumiVersion`). */
const REPO_PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
export const PINNED_PULUMI_VERSION: string = REPO_PACKAGE.nexus.pulumiVersion;

/**
 * The CLI version this process wants: NEXUS_PULUMI_VERSION when set (scripts/build-pulumi.sh
 * honours the same variable, so both agree on the build folder), else the pinned one.
 */
export function wantedPulumiVersion(env: NodeJS.ProcessEnv): string {
  return env.NEXUS_PULUMI_VERSION?.replace(/^v/, '') || PINNED_PULUMI_VERSION;
}

export interface CliLocation {
  /** Folder that holds `pulumi` (and, when Nexus built it, the dynamic-provider launcher). */
  binDir: string;
  /** How it was found, for `nexus doctor`. */
  source: 'NEXUS_PULUMI_DIR' | 'PATH' | 'cache';
}

export class PulumiCliNotFoundError extends Error {
  constructor(readonly searched: string[], readonly wanted: string = PINNED_PULUMI_VERSION) {
    super(
      `the Pulumi CLI v${wanted} was not found (looked in ${searched.join(', ')}); ` +
        'run `bash scripts/build-pulumi.sh` and set NEXUS_PULUMI_DIR to the folder it prints',
    );
    this.name = 'PulumiCliNotFoundError';
  }
}

/** A CLI was found but is not the version Nexus runs. */
export class PulumiCliVersionError extends Error {
  constructor(readonly cli: string, readonly found: string, readonly wanted: string) {
    super(
      `${cli} is Pulumi v${found}, but Nexus runs v${wanted}; ` +
        'run `bash scripts/build-pulumi.sh` and set NEXUS_PULUMI_DIR to the folder it prints',
    );
    this.name = 'PulumiCliVersionError';
  }
}

export function cacheBinDir(env: NodeJS.ProcessEnv): string {
  const cache = env.NEXUS_TOOLS_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nexus');
  return join(cache, `pulumi-v${wantedPulumiVersion(env)}`, 'bin');
}

const versions = new Map<string, string>();

/**
 * `pulumi version` of one binary, without the leading `v` ('' when it does not answer).
 * Memoised per file and modification time: a rebuilt CLI is asked again.
 */
export function cliVersion(file: string, env: NodeJS.ProcessEnv): string {
  let key: string;
  try { key = `${file}|${statSync(file).mtimeMs}`; } catch { return ''; }
  let v = versions.get(key);
  if (v === undefined) {
    try {
      v = execFileSync(file, ['version'], {
        encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...env, PULUMI_SKIP_UPDATE_CHECK: 'true' },
      }).trim().replace(/^v/, '');
    } catch {
      v = '';
    }
    versions.set(key, v);
  }
  return v;
}

/**
 * Where the CLI is: NEXUS_PULUMI_DIR (as given; its version is checked by `pulumiCommand`), then
 * a `pulumi` on PATH of the wanted version, then the build cache. A pulumi of another version on
 * PATH is passed over, and named in the error when nothing else is found.
 */
export function locatePulumi(env: NodeJS.ProcessEnv): CliLocation {
  const wanted = wantedPulumiVersion(env);
  const searched: string[] = [];
  if (env.NEXUS_PULUMI_DIR) {
    searched.push(`NEXUS_PULUMI_DIR=${env.NEXUS_PULUMI_DIR}`);
    if (existsSync(join(env.NEXUS_PULUMI_DIR, 'pulumi'))) return { binDir: env.NEXUS_PULUMI_DIR, source: 'NEXUS_PULUMI_DIR' };
  }
  const cached = cacheBinDir(env);
  const onPath = (env.PATH ?? '').split(delimiter).filter((d) => d && resolve(d) !== resolve(cached) && existsSync(join(d, 'pulumi')));
  const others: string[] = [];
  for (const d of onPath) {
    const v = cliVersion(join(d, 'pulumi'), env);
    if (v === wanted) return { binDir: d, source: 'PATH' };
    others.push(`${join(d, 'pulumi')} is ${v ? `v${v}` : 'not answering'}`);
  }
  searched.push(others.length ? `PATH (${others.join(', ')})` : 'PATH');
  searched.push(cached);
  if (existsSync(join(cached, 'pulumi'))) return { binDir: cached, source: 'cache' };
  throw new PulumiCliNotFoundError(searched, wanted);
}

/**
 * The install root PulumiCommand.get expects (it runs `<root>/bin/pulumi`). A folder not named
 * `bin` gets a root of its own whose `bin` links to it.
 */
export function installRoot(binDir: string): string {
  if (basename(binDir) === 'bin') return dirname(binDir);
  const root = mkdtempSync(join(tmpdir(), 'nexus-pulumi-root-'));
  symlinkSync(resolve(binDir), join(root, 'bin'), 'dir');
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  return root;
}

const commands = new Map<string, Promise<PulumiCommand>>();

/**
 * The Automation API's handle on the located CLI. `PulumiCommand.get` runs `pulumi version` and
 * refuses a CLI older than the SDK needs (skipVersionCheck stays false); a CLI that is not the
 * wanted version is refused here (PulumiCliVersionError). Memoised per folder and version.
 */
export function pulumiCommand(env: NodeJS.ProcessEnv): Promise<PulumiCommand> {
  const { binDir } = locatePulumi(env);
  const wanted = wantedPulumiVersion(env);
  const key = `${binDir}|${wanted}`;
  let cmd = commands.get(key);
  if (!cmd) {
    cmd = PulumiCommand.get({ root: installRoot(binDir), skipVersionCheck: false }).then((c) => {
      const found = c.version?.toString() ?? 'unknown';
      if (found !== wanted) throw new PulumiCliVersionError(join(binDir, 'pulumi'), found, wanted);
      return c;
    });
    cmd.catch(() => commands.delete(key));
    commands.set(key, cmd);
  }
  return cmd;
}

export const LAUNCHER = 'pulumi-resource-pulumi-nodejs';

/** Where the engine will find the dynamic-provider launcher (the order of the PATH `cliEnv` builds). */
export function findLauncher(loc: CliLocation, env: NodeJS.ProcessEnv): string | undefined {
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
export function cliEnv(loc: CliLocation, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {
    // The build cache also holds the launcher when the CLI itself came from elsewhere.
    PATH: [loc.binDir, cacheBinDir(env), env.PATH ?? ''].filter(Boolean).join(delimiter),
    NEXUS_PULUMI_DYNAMIC_PROVIDER: dynamicProviderHost(),
    NEXUS_NODE: process.execPath,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  };
  // Where the CLI keeps plugins and credentials, when the caller chose a folder of its own.
  if (env.PULUMI_HOME) out.PULUMI_HOME = env.PULUMI_HOME;
  return out;
}

/** Where the CLI keeps plugins: PULUMI_HOME, else ~/.pulumi. */
export function pulumiHome(env: NodeJS.ProcessEnv): string {
  return env.PULUMI_HOME || join(homedir(), '.pulumi');
}

/**
 * The version of the azure-native provider plugin that the compiled programs ask the engine for:
 * the installed @pulumi/azure-native package's own version (the SDK requests its own release),
 * else the range in package.json without its operator.
 */
export function azureNativePluginVersion(): string {
  const require = createRequire(import.meta.url);
  try {
    return JSON.parse(readFileSync(require.resolve('@pulumi/azure-native/package.json'), 'utf8')).version;
  } catch {
    return String(REPO_PACKAGE.dependencies?.['@pulumi/azure-native'] ?? '').replace(/^[^\d]*/, '');
  }
}

/**
 * A resource provider plugin as the engine would find it with downloads disabled: installed under
 * PULUMI_HOME/plugins/resource-<name>-v<version> (complete, i.e. no `.partial` marker beside it),
 * or an ambient `pulumi-resource-<name>` on the CLI's PATH.
 */
export function findResourcePlugin(
  name: string, version: string, loc: CliLocation | undefined, env: NodeJS.ProcessEnv,
): { file: string; source: 'plugins' | 'PATH' } | undefined {
  const file = `pulumi-resource-${name}`;
  const dir = join(pulumiHome(env), 'plugins', `resource-${name}-v${version}`);
  if (existsSync(join(dir, file)) && !existsSync(`${dir}.partial`)) return { file: join(dir, file), source: 'plugins' };
  if (env.PULUMI_IGNORE_AMBIENT_PLUGINS === 'true') return undefined;
  const dirs = [...(loc ? [loc.binDir] : []), ...(env.PATH ?? '').split(delimiter).filter(Boolean)];
  const ambient = dirs.map((d) => join(d, file)).find((f) => existsSync(f));
  return ambient ? { file: ambient, source: 'PATH' } : undefined;
}

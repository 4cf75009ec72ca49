// `nexus doctor [--json]`: is everything the engine needs there? The Pulumi CLI (path, version,
// dynamic-provider launcher), the state backend, storage, the ARM endpoint, the landing-zone
// repository when one is configured; and what to do about each thing that is not.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import type { Env, NexusConfig } from '../../runtime/config.ts';
import { join } from 'node:path';
import {
  LAUNCHER, PulumiCliVersionError, azureNativePluginVersion, findLauncher, findResourcePlugin, locatePulumi, pulumiCommand,
  pulumiHome, wantedPulumiVersion, type CliLocation,
} from '../../../stacks/engine/cli.ts';
import { backendSettings } from '../../../stacks/engine/backend.ts';
import { firstApplyFiles, firstApplyStatus } from '../../runtime/first-apply.ts';
import { checkStorage } from '../../platform/storage-doctor.ts';
import { armConfig, armRequest } from '../../platform/arm.ts';
import { checkLandingZoneRepository } from './doctor-gitops.ts';

export interface Check {
  name: string;
  ok: boolean;
  /** What was found (never a secret). */
  detail: string;
  /** What to do when not ok. */
  fix?: string;
}

const START_LOCAL = 'start the local system with `npm run up` (it writes .nexus/local.env, which the CLI reads)';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000}s`)), ms); }),
  ]);
}

const BUILD_CLI = 'run `bash scripts/build-pulumi.sh` (builds the pinned CLI once, or links a pulumi of that version from PATH) and set NEXUS_PULUMI_DIR to the folder it prints';

async function checkCli(env: Env): Promise<{ checks: Check[]; loc?: CliLocation }> {
  const wanted = wantedPulumiVersion(env);
  let loc: CliLocation | undefined;
  try {
    loc = locatePulumi(env);
    const cmd = await pulumiCommand(env);
    const version = cmd.version?.toString() ?? 'unknown';
    const ok: Check = { name: 'pulumi-cli', ok: true, detail: `${join(loc.binDir, 'pulumi')} v${version} (from ${loc.source})` };
    const launcher = findLauncher(loc, env);
    return {
      loc,
      checks: [ok, launcher
        ? { name: 'dynamic-provider-launcher', ok: true, detail: launcher }
        : { name: 'dynamic-provider-launcher', ok: false, detail: `${LAUNCHER} is not beside the CLI`, fix: 'run `bash scripts/build-pulumi.sh --launcher-only`' }],
    };
  } catch (err) {
    const detail = err instanceof PulumiCliVersionError
      ? `${err.cli} is v${err.found}; Nexus runs v${wanted} (package.json nexus.pulumiVersion${env.NEXUS_PULUMI_VERSION ? ', overridden by NEXUS_PULUMI_VERSION' : ''})`
      : (err as Error).message.split('\n')[0];
    return { loc, checks: [{ name: 'pulumi-cli', ok: false, detail, fix: BUILD_CLI }] };
  }
}

/**
 * Production runs azure-native programs with plugin downloads off, so the provider plugin must be
 * installed beforehand (at packaging time). Only asked for on the azure-native resource backend.
 */
function checkAzureNativePlugin(env: Env, loc: CliLocation | undefined): Check {
  const version = azureNativePluginVersion();
  const found = findResourcePlugin('azure-native', version, loc, env);
  if (found) return { name: 'azure-native-plugin', ok: true, detail: `${found.file} (v${version}${found.source === 'PATH' ? ', from PATH' : ''})` };
  return {
    name: 'azure-native-plugin', ok: false,
    detail: `pulumi-resource-azure-native v${version} is not installed in ${join(pulumiHome(env), 'plugins')} (plugin downloads are disabled at run time)`,
    fix: `install it when packaging: \`pulumi plugin install resource azure-native ${version}\` (with the same PULUMI_HOME), or set NEXUS_RESOURCE_BACKEND=arm-rest for the local sandbox`,
  };
}

async function checkBackendAndStorage(config: NexusConfig): Promise<Check[]> {
  const env = config.engine.env;
  const checks: Check[] = [];
  try {
    const b = backendSettings(env);
    checks.push({ name: 'pulumi-backend', ok: true, detail: `${b.describe} (secrets: ${b.secretsProvider === 'passphrase' ? 'passphrase' : b.secretsProvider})` });
  } catch (err) {
    checks.push({ name: 'pulumi-backend', ok: false, detail: (err as Error).message, fix: START_LOCAL });
  }
  // Tables and blobs both answer, or what to do about it (functions/platform/storage-doctor.ts).
  const storage = await checkStorage(undefined, { settings: config.storage, timeoutMs: 5000 });
  checks.push({ name: 'storage', ok: storage.ok, detail: storage.detail, ...(storage.fix ? { fix: storage.fix } : {}) });
  return checks;
}

async function checkArm(config: NexusConfig): Promise<Check> {
  let endpoint = config.arm.endpoint;
  try {
    const cfg = armConfig(config.arm);
    endpoint = cfg.endpoint;
    const res = await withTimeout(armRequest('GET', '/providers/Microsoft.Management/managementGroups', { apiVersion: '2021-04-01', cfg }), 10000, cfg.endpoint);
    if (res.status === 200) return { name: 'arm', ok: true, detail: `${cfg.endpoint} answers (${(res.body?.value ?? []).length} management groups visible)` };
    const code = res.body?.error?.code ? ` ${res.body.error.code}` : '';
    return {
      name: 'arm', ok: false, detail: `${cfg.endpoint} answered ${res.status}${code}`,
      fix: res.status === 401 || res.status === 403
        ? 'the token is not accepted: set NEXUS_ARM_TOKEN (local sandbox) or sign in for DefaultAzureCredential (`az login`)'
        : 'check NEXUS_ARM_ENDPOINT',
    };
  } catch (err) {
    return {
      name: 'arm', ok: false, detail: `${endpoint}: ${(err as Error).message.split('\n')[0]}`,
      fix: `${START_LOCAL}; for Azure, sign in for DefaultAzureCredential (\`az login\`) and leave NEXUS_ARM_ENDPOINT unset`,
    };
  }
}

export async function runDoctor(config: NexusConfig): Promise<{ ok: boolean; checks: Check[] }> {
  const env = config.engine.env;
  const [cli, storage, arm, repo] = await Promise.all([
    checkCli(env), checkBackendAndStorage(config), checkArm(config),
    checkLandingZoneRepository(config, (p) => withTimeout(p, 15000, 'the Git host')),
  ]);
  const resourceBackend: string = config.engine.resourceBackend;
  const backendCheck: Check = resourceBackend === 'azure-native' || resourceBackend === 'arm-rest'
    ? { name: 'resource-backend', ok: true, detail: resourceBackend }
    : { name: 'resource-backend', ok: false, detail: `NEXUS_RESOURCE_BACKEND=${resourceBackend}`, fix: 'set NEXUS_RESOURCE_BACKEND to azure-native (Azure) or arm-rest (the local sandbox)' };
  const plugin = resourceBackend === 'azure-native' ? [checkAzureNativePlugin(env, cli.loc)] : [];
  // On a local system (`npm run up`): how far the first apply of the default tenant is.
  const first = firstApplyStatus(firstApplyFiles(config.identity.home), new Date());
  const checks = [...cli.checks, ...storage, arm, backendCheck, ...plugin, ...(repo ? [repo] : []), ...(first ? [{ name: 'first-apply', ...first }] : [])];
  return { ok: checks.every((c) => c.ok), checks };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check the Pulumi CLI, the state backend, storage, the ARM endpoint and the landing-zone repository (when set), and how far the first apply of `npm run up` is')
    .option('--json', 'print JSON: {"ok":bool,"checks":[{"name","ok","detail","fix"}]}')
    .action(async (opts: { json?: boolean }) => {
      const report = await runDoctor(ctx.config());
      if (opts.json) {
        process.stdout.write(JSON.stringify(report) + '\n');
      } else {
        for (const c of report.checks) {
          process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(26)} ${c.detail}\n`);
          if (!c.ok && c.fix) process.stdout.write(`     ${''.padEnd(26)} -> ${c.fix}\n`);
        }
      }
      if (!report.ok) process.exitCode = 1;
    });
}

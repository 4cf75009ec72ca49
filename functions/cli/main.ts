// The CLI runtime: one commander program; each command lives in its own module under commands/.
import { Command, CommanderError } from 'commander';
import { registerAll } from './commands/index.ts';
import { UserError } from './errors.ts';
import { cliContext, type CliContext } from './context.ts';
import { processConfig, processEnv } from '../runtime/config.ts';
import { readLocalEnv } from './local-env.ts';

/** The CLI's configuration: the environment, with .nexus/local.env filling what it leaves unset. */
export function cliConfig() {
  return processConfig(readLocalEnv(processEnv()));
}

export function buildProgram(ctx: CliContext = cliContext(cliConfig)): Command {
  const program = new Command('nexus')
    .description('Nexus: landing zones as code, run continuously, and the catalog around them')
    .showHelpAfterError()
    .exitOverride();
  registerAll(program, ctx);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof UserError) {
      process.stderr.write(`nexus: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`nexus: unexpected error: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 2;
  }
}

// Every CLI command registers itself here, one import and one line each.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import * as devToken from './dev-token.ts';
import * as catalogCmd from './catalog.ts';
import * as validateCmd from './validate.ts';
import * as resolveCmd from './resolve.ts';
import * as compileCmd from './compile.ts';
import * as reconcileCmd from './reconcile.ts';
import * as runsCmd from './runs.ts';
import * as killswitchCmd from './killswitch.ts';
import * as approvalsCmd from './approvals.ts';
import * as doctorCmd from './doctor.ts';
import * as previewCmd from './preview.ts';
import * as driftCmd from './drift.ts';

export function registerAll(program: Command, ctx: CliContext): void {
  devToken.register(program, ctx);
  catalogCmd.register(program, ctx);
  validateCmd.register(program);
  resolveCmd.register(program);
  compileCmd.register(program);
  reconcileCmd.register(program, ctx);
  runsCmd.register(program, ctx);
  killswitchCmd.register(program, ctx);
  approvalsCmd.register(program, ctx);
  doctorCmd.register(program, ctx);
  previewCmd.register(program, ctx);
  driftCmd.register(program);
  void program;
}

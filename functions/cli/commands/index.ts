// Every CLI command registers itself here, one import and one line each.
import type { Command } from 'commander';
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

export function registerAll(program: Command): void {
  devToken.register(program);
  catalogCmd.register(program);
  validateCmd.register(program);
  resolveCmd.register(program);
  compileCmd.register(program);
  reconcileCmd.register(program);
  runsCmd.register(program);
  killswitchCmd.register(program);
  approvalsCmd.register(program);
  doctorCmd.register(program);
  previewCmd.register(program);
  void program;
}

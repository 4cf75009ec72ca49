// Every CLI command registers itself here, one import and one line each.
import type { Command } from 'commander';
import * as devToken from './dev-token.ts';
import * as catalogCmd from './catalog.ts';

export function registerAll(program: Command): void {
  devToken.register(program);
  catalogCmd.register(program);
  void program;
}

// Every CLI command registers itself here, one import and one line each.
import type { Command } from 'commander';
import * as devToken from './dev-token.ts';

export function registerAll(program: Command): void {
  devToken.register(program);
  void program;
}

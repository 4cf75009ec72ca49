// Every CLI command registers itself here, one import and one line each.
import type { Command } from 'commander';

export function registerAll(program: Command): void {
  void program;
}

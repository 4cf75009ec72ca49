#!/usr/bin/env node
// The `nexus` CLI. Sources are TypeScript; tsx loads them without a build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../functions/cli/main.ts');
await main(process.argv);

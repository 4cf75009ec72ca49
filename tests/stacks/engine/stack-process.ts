// Runs one engine operation in a process of its own (for the restart and dead-process tests):
// NEXUS_TEST_STATE_FILE holds the DesiredState, argv: <stack> <preview|up>. Prints the ChangeSet.
import { readFileSync } from 'node:fs';
import { openStack } from '../../../stacks/engine/index.ts';

const [stack, op] = process.argv.slice(2);
const state = JSON.parse(readFileSync(process.env.NEXUS_TEST_STATE_FILE!, 'utf8'));
const s = await openStack({ state, stack, resourceBackend: 'arm-rest', env: process.env });
const cs = op === 'up' ? await s.up() : await s.preview();
s.close();
process.stdout.write(JSON.stringify(cs) + '\n');

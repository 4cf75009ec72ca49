// Compile benchmark: the ALZ library's `alz` architecture with 500 subscriptions placed under its
// landing-zone groups, loaded, resolved, validated and compiled to DesiredState, several times in one
// process. Prints one JSON line: median and min ms per compile, and peak RSS in MB.
//   node --expose-gc --import tsx scripts/bench/compile.ts   (NEXUS_BENCH_RUNS, NEXUS_BENCH_SUBSCRIPTIONS)
import { alzLibraryDir, compile } from '../../stacks/compile/index.ts';

const RUNS = Number(process.env.NEXUS_BENCH_RUNS ?? 9);
const SUBSCRIPTIONS = Number(process.env.NEXUS_BENCH_SUBSCRIPTIONS ?? 500);
const GROUPS = ['landingzones', 'corp', 'online', 'local'];

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const subscriptions = Array.from({ length: SUBSCRIPTIONS }, (_, i) => ({
  id: `${hex(i + 1, 8)}-0000-4000-8000-${hex(i + 1, 12)}`,
  managementGroup: GROUPS[i % GROUPS.length]!,
}));

const times: number[] = [];
let resources = 0;
let errors = 0;
for (let i = 0; i < RUNS; i++) {
  (globalThis as { gc?: () => void }).gc?.();
  const t = performance.now();
  const c = compile({ libraries: [alzLibraryDir()], architecture: 'alz', rootMg: 'tenant-root', location: 'westeurope', subscriptions });
  times.push(performance.now() - t);
  resources = c.state.resources.length;
  errors = c.state.findings.filter((f) => f.severity === 'error').length;
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
console.log(
  JSON.stringify({
    bench: 'compile',
    subscriptions: SUBSCRIPTIONS,
    runs: RUNS,
    resources,
    errors,
    firstMs: Math.round(times[0]!),
    medianMs: Math.round(median),
    minMs: Math.round(sorted[0]!),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    targetMs: 1000,
    targetRssMb: 300,
  }),
);

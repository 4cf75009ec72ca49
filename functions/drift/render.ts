// placeholder until merge (i12-normalise owns it)
import type { Difference } from './normalise/types.ts';
export function renderDiff(differences: Difference[]): string {
  return differences.map((d) => `${d.path}: ${JSON.stringify(d.desired)} -> ${JSON.stringify(d.live)}`).join('\n');
}

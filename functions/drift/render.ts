// The differing properties, desired -> live, as json-diff renders them (no colour), one line per
// path so a reader sees exactly what moved and where.
import { diffString } from 'json-diff';
import type { Difference } from './normalise/types.ts';

/** The whole resource (added or deleted) is reported at the empty path. */
const WHOLE = '(resource)';

export function renderDiff(differences: readonly Difference[]): string {
  if (differences.length === 0) return '';
  // Null-prototype maps: paths come from bodies anyone can write.
  const desired: Record<string, unknown> = Object.create(null);
  const live: Record<string, unknown> = Object.create(null);
  for (const d of differences) {
    const key = d.path === '' ? WHOLE : d.path;
    if (d.desired !== undefined) desired[key] = d.desired;
    if (d.live !== undefined) live[key] = d.live;
  }
  return diffString({ ...desired }, { ...live }, { color: false, full: false });
}

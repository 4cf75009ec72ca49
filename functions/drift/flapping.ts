// A property that goes back and forth across runs (two tools fighting, a service toggling, a
// person undoing Nexus's remediation again and again) is reported once as flapping, not as a new
// drift every run: its history over the last reports says so.
import type { DriftReport } from './model.ts';

/** How many earlier reports are looked at. */
export const FLAP_WINDOW = 6;

const key = (resourceId: string, path: string) => `${resourceId.toLowerCase()}|${path}`;
const SYNC = '\u0000in-sync';

/**
 * The (resource, path) keys that flap, given the drifted properties found now and the earlier
 * reports (newest first). A state is the live value's JSON, or "in sync" when a report did not
 * list the property as drifted.
 */
export function flappingKeys(now: { resourceId: string; path: string; live: unknown }[], earlier: DriftReport[]): Set<string> {
  const window = earlier.slice(0, FLAP_WINDOW).reverse();
  const seen = window.map((r) => {
    const m = new Map<string, string>();
    for (const item of r.items) {
      if (item.kind !== 'configuration' && item.kind !== 'flapping') continue;
      for (const p of item.properties) m.set(key(item.resourceId, p.path), JSON.stringify(p.live) ?? 'undefined');
    }
    return m;
  });
  const out = new Set<string>();
  for (const d of now) {
    const k = key(d.resourceId, d.path);
    const states = [...seen.map((m) => m.get(k) ?? SYNC), JSON.stringify(d.live) ?? 'undefined'];
    // Back and forth: a state comes back after another one (drifted, put back, drifted again; or
    // two tools fighting). A drift that appears once, or changes value once, is no flap.
    const runs = states.filter((x, i) => i === 0 || x !== states[i - 1]);
    if (new Set(runs).size < runs.length) out.add(k);
  }
  return out;
}

export { key as flapKey };

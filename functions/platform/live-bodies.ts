// The live ARM body of each resource (a GET at the resource's own API version), a few at a time:
// what the drift judge compares with the desired body, and what a baseline keeps after an apply.
import { armRequest, type ArmConfig } from './arm.ts';
import { mapLimit } from './map-limit.ts';

/** Live bodies by lower-cased id; null for a resource ARM does not have (404). Any other failure throws, naming the resource. */
export async function liveBodies(
  resources: { id: string; apiVersion: string }[], opts: { cfg: ArmConfig; concurrency?: number },
): Promise<Map<string, Record<string, unknown> | null>> {
  const out = new Map<string, Record<string, unknown> | null>();
  await mapLimit(resources, opts.concurrency ?? 8, async (r) => {
    const res = await armRequest('GET', r.id, { apiVersion: r.apiVersion, cfg: opts.cfg });
    if (res.status === 404) out.set(r.id.toLowerCase(), null);
    else if (res.status === 200 && res.body && typeof res.body === 'object') out.set(r.id.toLowerCase(), res.body as Record<string, unknown>);
    else throw new Error(`GET ${r.id} (api-version ${r.apiVersion}) answered ${res.status}: ${String(res.body?.error?.message ?? res.body ?? '').slice(0, 300)}`);
  });
  return out;
}

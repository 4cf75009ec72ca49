// Storage whose table clients count what they send and receive: requests, and entities in answers.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { StorageConfig } from '../../../functions/platform/storage-config.ts';

export interface Counts { requests: number; entities: number; paths: string[] }

export function counting(storage: StorageConfig): { storage: StorageConfig; counts: Counts; reset(): void } {
  const counts: Counts = { requests: 0, entities: 0, paths: [] };
  const policy: PipelinePolicy = {
    name: 'testCounter',
    async sendRequest(req, next) {
      counts.requests++;
      counts.paths.push(`${req.method} ${decodeURIComponent(new URL(req.url).pathname)}`);
      const res = await next(req);
      if (req.method === 'GET' && res.status === 200 && res.bodyAsText) {
        try {
          const body = JSON.parse(res.bodyAsText) as { value?: unknown[] };
          counts.entities += Array.isArray(body.value) ? body.value.length : 1;
        } catch { /* not JSON */ }
      }
      return res;
    },
  };
  return {
    storage: { ...storage, tableClient: (table) => { const c = storage.tableClient(table); c.pipeline.addPolicy(policy); return c; } },
    counts,
    reset: () => { counts.requests = 0; counts.entities = 0; counts.paths = []; },
  };
}

/** A clock tests move by hand. */
export function clock(start = Date.now()): { now: () => Date; advance(ms: number): void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => { t += ms; } };
}

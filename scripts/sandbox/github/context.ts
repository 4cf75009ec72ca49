// What the stand-in's routes share: the state, the URLs it answers on, the webhook queue, where
// each bare repository lives, and one lock per repository (a push, a merge and the webhooks they
// produce happen one after the other, so before/after refs are never interleaved).
import { join } from 'node:path';
import type { Store } from './store.ts';
import type { Urls } from './shapes.ts';
import type { Deliverer } from './webhooks.ts';

export class StandInError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: { resource: string; field: string; code: string; message?: string }[]) {
    super(message);
  }
}

export const notFound = () => new StandInError(404, 'Not Found');
export const invalid = (resource: string, field: string, message: string, code = 'invalid') =>
  new StandInError(422, `Validation Failed: ${message}`, [{ resource, field, code, message }]);

export class Ctx {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly store: Store, readonly urls: Urls, readonly hooks: Deliverer, readonly dataDir: string) {}

  repoDir(full: string): string {
    return join(this.dataDir, 'repos', `${full}.git`);
  }

  /** Runs `fn` after every earlier holder of the repository's lock. */
  withLock<T>(full: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(full) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(full, next.catch(() => undefined));
    return next;
  }
}

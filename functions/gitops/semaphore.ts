// A counting semaphore whose waiters can give up: previews of every pull request share a few
// engine slots, and a preview superseded while it waits leaves the queue without taking one.

export class SlotAbortedError extends Error {
  constructor() {
    super('gave up waiting for a preview slot');
    this.name = 'SlotAbortedError';
  }
}

export class Semaphore {
  private active = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];
  private readonly width: number;

  constructor(width: number) {
    // A bad setting (0, NaN) runs one at a time rather than none.
    this.width = Number.isFinite(width) && width >= 1 ? Math.floor(width) : 1;
  }

  /** Slots in use now. */
  get inUse(): number {
    return this.active;
  }

  /** Runs `f` in a slot; rejects with SlotAbortedError when `signal` aborts before a slot is free. */
  async run<T>(f: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await f();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new SlotAbortedError());
    if (this.active < this.width) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.active++;
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new SlotAbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.grant();
  }
}

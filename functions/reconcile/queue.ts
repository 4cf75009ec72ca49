// Runs are queued per stack in this process: never two at once on one stack, any number on
// different stacks. (Across processes the stack's blob lease does the same.)
export class StackQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly depth = new Map<string, number>();

  run<T>(stack: string, job: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(stack) ?? Promise.resolve();
    this.depth.set(stack, (this.depth.get(stack) ?? 0) + 1);
    const next = prev.catch(() => undefined).then(job);
    const tail = next.catch(() => undefined).finally(() => {
      const d = (this.depth.get(stack) ?? 1) - 1;
      if (d === 0) { this.depth.delete(stack); this.tails.delete(stack); } else this.depth.set(stack, d);
    });
    this.tails.set(stack, tail);
    return next;
  }

  /** Jobs queued or running for the stack. */
  pending(stack: string): number {
    return this.depth.get(stack) ?? 0;
  }

  /** Resolves when every queued job has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}

/** Bounds concurrent POSTs to the function. Waiters are served in arrival order. */
export class Semaphore {
  #free: number;
  readonly #waiters: Array<() => void> = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  /** Slots free right now with nobody waiting (what the scheduler may take without queueing). */
  get available(): number {
    return this.#waiters.length > 0 ? 0 : this.#free;
  }

  tryAcquire(): boolean {
    if (this.available <= 0) return false;
    this.#free--;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

/**
 * How many bytes of message bodies the spool may hold in memory at once (messages received into memory
 * and committed through the journal, until they are done or written to their own files). A message that
 * would pass the budget streams to a file instead, so memory stays bounded however many sessions send
 * large messages at the same time.
 */
export class MemoryBudget {
  readonly #max: number;
  #used = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  get usedBytes(): number {
    return this.#used;
  }

  tryReserve(bytes: number): boolean {
    if (this.#used + bytes > this.#max) return false;
    this.#used += bytes;
    return true;
  }

  /** Counts bytes that are in memory already (restored at start), even past the budget. */
  add(bytes: number): void {
    this.#used += bytes;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}

import { headerSummary, type HeaderSummary } from './message-headers';

/**
 * Subject and From of recent messages, by spool id. A finished message keeps no body in the spool, so its
 * headers are read while the file is still there: when the message is accepted (the listener's event) or,
 * for entries a previous run left, when the page first lists them. In memory and bounded.
 */
export class HeaderCache {
  /** The start of a live message (Spool.readHead: from memory while the message is journal-only, else disk). */
  readonly #readHead: (id: string) => Promise<Buffer | undefined>;
  readonly #max: number;
  readonly #cache = new Map<string, HeaderSummary>();

  constructor(readHead: (id: string) => Promise<Buffer | undefined>, max = 5000) {
    this.#readHead = readHead;
    this.#max = max;
  }

  /** Reads and keeps the headers of a message whose file exists now. Never throws. */
  async remember(id: string): Promise<HeaderSummary | undefined> {
    try {
      const head = await this.#readHead(id);
      if (!head) return undefined;
      const summary = headerSummary(head);
      this.#cache.set(id, summary);
      while (this.#cache.size > this.#max) this.#cache.delete(this.#cache.keys().next().value as string);
      return summary;
    } catch {
      return undefined; // gone meanwhile (finished or deleted): the page shows no subject
    }
  }

  /** Headers of a live entry (its file is on disk). */
  async forLive(id: string): Promise<HeaderSummary | undefined> {
    return this.#cache.get(id) ?? this.remember(id);
  }

  /** Headers seen earlier, if any (finished entries). */
  known(id: string): HeaderSummary | undefined {
    return this.#cache.get(id);
  }
}

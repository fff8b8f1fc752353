import { fsyncDirectory } from './durable-fs';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for directory fsyncs. Every message must have its rename made durable before the 250, but one
 * directory fsync covers every rename that happened before it started. So callers that arrive while an fsync
 * runs wait for the next one, which then serves all of them at once: with 20 sessions finishing together that
 * is one or two fsyncs instead of twenty (the toolchain notes measured fsync per message as the limit once the
 * greeting delay is gone). A caller is never served by an fsync that started before its rename.
 */
export class DirectorySyncer {
  readonly #dir: string;
  #waiting: Waiter[] = [];
  #running = false;

  constructor(dir: string) {
    this.#dir = dir;
  }

  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#running) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        await fsyncDirectory(this.#dir);
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    this.#running = false;
  }
}

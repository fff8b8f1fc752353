import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * Follows a growing log file and hands out whole lines (`tail -f`). The stack's children write straight
 * into their log files rather than into pipes to the stack: a pipe breaks when the stack dies, and a
 * child whose stdout is broken can hang in its shutdown (pino retrying a write) instead of exiting; a file
 * never breaks, and its lines outlive everyone.
 */
export class LogTail {
  readonly #path: string;
  readonly #onLine: (line: string) => void;
  #position: number;
  #partial = '';
  /** Keeps a character whose bytes straddle two reads whole. */
  readonly #decoder = new StringDecoder('utf8');
  #timer: NodeJS.Timeout | undefined;

  /** Starts at the current end of the file: earlier runs' lines are not replayed. */
  constructor(path: string, onLine: (line: string) => void, pollMs = 100) {
    this.#path = path;
    this.#onLine = onLine;
    this.#position = sizeOf(path);
    this.#timer = setInterval(() => this.drain(), pollMs);
    this.#timer.unref();
  }

  /** Reads whatever was appended since the last call and emits its complete lines. */
  drain(): void {
    if (sizeOf(this.#path) <= this.#position) return;
    const fd = openSync(this.#path, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.#position);
        if (n <= 0) break;
        this.#position += n;
        const lines = (this.#partial + this.#decoder.write(buffer.subarray(0, n))).split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of lines) this.#onLine(line.replace(/\r$/, ''));
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Final read (a last line without newline included), then stops following. */
  stop(): void {
    clearInterval(this.#timer);
    this.drain();
    if (this.#partial) this.#onLine(this.#partial);
    this.#partial = '';
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

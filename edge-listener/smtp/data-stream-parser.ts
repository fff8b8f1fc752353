import type { Writable } from 'node:stream';

import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

type Callback = (err?: Error | null) => void;

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const LF_DOT = Buffer.from('\n.');

/** Gives one of smtp-server's parsers (SMTPConnection._createParser) the DATA scan below. */
export function useFastDataScan(parser: SMTPStream): SMTPStream {
  // How many of the library's held-back bytes (`_lastBytes`, the last 4 of the previous chunk) this scan has
  // already written to the data stream: usually all 4 (see the end of feedDataStream).
  const state = { heldEmitted: 0 };
  parser._feedDataStream = (chunk, done) => feedDataStream(parser, state, chunk, done);
  return parser;
}

/**
 * smtp-server's `SMTPStream._feedDataStream` with the DATA scan done by native search (docs/design/edge-ingest.md).
 *
 * The library looks at every byte of every message in a JavaScript loop for a dot at the start of a line,
 * and copies every chunk to put the 4 bytes it held back from the previous chunk in front of it: on the
 * 1 MB rows of bench/edge that loop alone was ~17% of the listener's CPU. This version examines the same
 * sequence (the 4 held-back bytes, then the chunk) without joining it, finds the candidates with
 * `indexOf("\n.")`, and holds back — leaves unwritten — only a trailing dot that starts a line (it may be an
 * escape dot or the terminator once the next chunk arrives): the other held-back bytes are written with
 * their chunk and serve only as look-behind, so each chunk goes out as one write and nothing is copied.
 *
 * What reaches the data stream is byte for byte what the library sends: the same dots are removed, DATA ends
 * at the same CRLF.CRLF, the same positions are examined (every position from 2 on; the first chunk's start
 * as the library), the same backpressure ('drain' or 'close'). Only chunk boundaries differ.
 * test/edge-listener/smtp/data-stream-parser.test.ts compares it with the library on split input.
 */
function feedDataStream(
  self: SMTPStream,
  state: { heldEmitted: number },
  input: Buffer,
  done: Callback,
): void {
  const dataStream = self._dataStream!;
  let head: Buffer = self._lastBytes && self._lastBytes.length > 0 ? self._lastBytes : EMPTY;
  const skip = head.length > 0 ? state.heldEmitted : 0;
  let chunk = input;
  self._lastBytes = false;
  state.heldEmitted = 0;
  // The start of DATA and tiny chunks take the library's way of joining (small copies, rare).
  if (head.length > 0 && (self._atDataStart || chunk.length < 8)) {
    chunk = Buffer.concat([head, chunk], head.length + chunk.length);
    head = EMPTY;
  }
  // Nothing has been written while _atDataStart holds, so `skip` is 0 whenever these two apply.
  if (self._atDataStart && chunk.length >= 3 && chunk[0] === DOT && chunk[1] === CR && chunk[2] === LF) {
    self._endDataMode(false, chunk.subarray(3), done);
    return;
  }
  if (self._atDataStart && chunk.length >= 2 && chunk[0] === DOT && chunk[1] === DOT) {
    chunk = chunk.subarray(1);
    self._atDataStart = false;
  }
  const x = new Joined(head, chunk, skip);
  const len = x.length;
  const i = x.nextSpecialDot();
  if (i >= 0) {
    self._countDataBytes(i - skip);
    if (x.isEndAt(i)) {
      // The bytes before the terminator, including the CRLF that ends the last line.
      const last = x.writeHeadOf(dataStream, i);
      self._endDataMode(last ?? false, x.from(i + 3), done);
      return;
    }
    // An escape dot: emit what comes before it and continue after it, as the library does.
    x.write(dataStream, i);
    const rest = x.from(i + 1);
    setImmediate(() => self._feedDataStream(rest, done));
    return;
  }
  if (chunk.length < 4) {
    // Fewer than 4 bytes in all (head is empty: short chunks were joined above): hold them, as the library.
    self._lastBytes = chunk;
    done();
    return;
  }
  // The library holds back the last 4 bytes. Only a dot starting a line at one of the last two positions
  // (not examined yet: the scan stops at len - 3) can still be removed; everything before it is written now.
  let hold = 0;
  if (x.at(len - 2) === DOT && x.at(len - 3) === LF) hold = 2;
  else if (x.at(len - 1) === DOT && x.at(len - 2) === LF) hold = 1;
  self._lastBytes = chunk.subarray(chunk.length - 4);
  state.heldEmitted = 4 - hold;
  const emit = len - hold;
  if (emit <= skip) {
    done();
    return;
  }
  self._countDataBytes(emit - skip);
  if (!dataStream.writable) {
    done();
    return;
  }
  if (x.write(dataStream, emit) || dataStream.destroyed) {
    done();
    return;
  }
  // a stream that the application destroys never drains, it only closes
  const onDrain = () => {
    dataStream.removeListener('drain', onDrain);
    dataStream.removeListener('close', onDrain);
    done();
  };
  dataStream.once('drain', onDrain);
  dataStream.once('close', onDrain);
}

const EMPTY = Buffer.alloc(0);

/**
 * The held-back bytes followed by the new chunk, addressed as one sequence without copying; its first
 * `skip` bytes were written to the data stream already and only serve as look-behind.
 */
class Joined {
  readonly #head: Buffer;
  readonly #chunk: Buffer;
  readonly #skip: number;
  readonly length: number;

  constructor(head: Buffer, chunk: Buffer, skip: number) {
    this.#head = head;
    this.#chunk = chunk;
    this.#skip = skip;
    this.length = head.length + chunk.length;
  }

  at(k: number): number {
    const h = this.#head.length;
    return k < h ? this.#head[k]! : this.#chunk[k - h]!;
  }

  /** A dot at `i` starting a line that is the terminator or an escape dot; positions 2 … length-3, as the library. */
  nextSpecialDot(): number {
    const h = this.#head.length;
    const end = this.length - 2; // exclusive, like the library's `i < len - 2`
    // Positions whose look-behind reaches into the held-back bytes: byte by byte (at most 4 of them).
    for (let i = 2; i < Math.min(end, h + 2); i++) if (this.#special(i)) return i;
    // The rest lies in the chunk: native search for LF followed by a dot.
    const chunk = this.#chunk;
    for (let p = chunk.indexOf(LF_DOT, 1); p >= 0; p = chunk.indexOf(LF_DOT, p + 1)) {
      const i = p + 1 + h;
      if (i >= end) break;
      if (this.#special(i)) return i;
    }
    return -1;
  }

  isEndAt(i: number): boolean {
    return (
      this.at(i - 2) === CR &&
      this.at(i - 1) === LF &&
      this.at(i) === DOT &&
      this.at(i + 1) === CR &&
      this.at(i + 2) === LF
    );
  }

  #special(i: number): boolean {
    return this.at(i) === DOT && this.at(i - 1) === LF && (this.isEndAt(i) || this.at(i + 1) === DOT);
  }

  /** Writes the bytes not yet written before `n`; the result of the last write (true if none). */
  write(stream: Writable, n: number): boolean {
    if (!stream.writable) return true;
    const tail = this.writeHeadOf(stream, n);
    return tail ? stream.write(tail) : true;
  }

  /**
   * Writes the held-back part of the bytes not yet written before `n` and returns their part in the chunk,
   * for the caller to write or to end the stream with (undefined when there is none).
   */
  writeHeadOf(stream: Writable, n: number): Buffer | undefined {
    const h = this.#head.length;
    const headEnd = Math.min(n, h);
    if (this.#skip < headEnd && stream.writable) stream.write(this.#head.subarray(this.#skip, headEnd));
    const from = Math.max(this.#skip, h) - h;
    return n - h > from ? this.#chunk.subarray(from, n - h) : undefined;
  }

  /** Bytes from `k` on (a copy only when `k` falls inside the few held-back bytes). */
  from(k: number): Buffer {
    const h = this.#head.length;
    if (k >= h) return this.#chunk.subarray(k - h);
    return Buffer.concat([this.#head.subarray(k), this.#chunk]);
  }
}

import { hasNonWhitespace, readHeaderBlock, stripMboxSeparator } from './raw-headers';

/**
 * The raw message as the caller holds it: one Buffer, or the chunks it arrived in, read in order. Chunks
 * let a caller that reads the message from a stream (a blob download) hand it over without first copying it
 * into one Buffer — for a 30 MB scan that copy, and the download chunks it leaves behind as garbage, were the
 * largest memory cost of the queue trigger.
 */
export type MimeBytes = Buffer | readonly Buffer[];

/**
 * The raw message as a stream of chunks read once (the queue trigger's blob download): planned while it
 * arrives, so the message itself is never held whole while its attachments are decoded. `byteLength` is the
 * announced size (the blob's length); it only sizes the attachment collectors (content-collector.ts).
 */
export interface MimeStream {
  chunks: AsyncIterable<Buffer>;
  byteLength: number;
}

export type MimeSource = MimeBytes | MimeStream;

export function isMimeStream(input: MimeSource): input is MimeStream {
  return !Buffer.isBuffer(input) && !Array.isArray(input);
}

/**
 * The message split for the byte-level steps around parsing (mbox line, 8-bit header repair, boundary check,
 * S/MIME header rewrite), all of which only look at or change the top-level header block:
 * - `head` is contiguous and starts at the first header byte. It is the whole message when the message came
 *   as one Buffer (nothing is copied, and every step sees exactly the bytes it always saw); for chunks, the
 *   first chunk when the header block ends in it, else the first HEAD_BYTES or more, copied once.
 * - `tail` is the rest, as given.
 */
export interface RawMime {
  head: Buffer;
  tail: readonly Buffer[];
}

/**
 * Gathered into `head` from chunks: twice mailparser's limit for a header block (maxHeadSize, 1 MB). A longer
 * header block is refused by the parser whatever the byte steps did, so they never need to see further.
 */
export const HEAD_BYTES = 2 * 1024 * 1024;

const LF = 0x0a;

export function rawMime(input: MimeBytes): RawMime {
  if (Buffer.isBuffer(input)) return { head: stripMboxSeparator(input), tail: [] };
  return gatherHead(withoutMboxLine(input.filter((p) => p.length > 0)));
}

/**
 * The head: the first piece itself when it holds the header block (the usual case: nothing is copied), else
 * the first HEAD_BYTES or more of the pieces as one contiguous Buffer.
 */
function gatherHead(pieces: Buffer[]): RawMime {
  const first = pieces[0];
  if (first === undefined) return { head: Buffer.alloc(0), tail: [] };
  if (first.length >= HEAD_BYTES || pieces.length === 1 || holdsHeaderBlock(first))
    return { head: first, tail: pieces.slice(1) };
  let count = 0;
  let bytes = 0;
  while (count < pieces.length && bytes < HEAD_BYTES) bytes += (pieces[count++] as Buffer).length;
  return { head: Buffer.concat(pieces.slice(0, count), bytes), tail: pieces.slice(count) };
}

/**
 * The message opened for one pass: `head` as in RawMime, then the rest read on demand. `complete` is true when
 * the head is the whole message. For a stream, only the head is read before this returns; the rest stays in
 * the source until `rest` is read (and a `rest.return()` gives the source up).
 */
export interface OpenedMime {
  head: Buffer;
  rest: AsyncIterator<Buffer, undefined>;
  complete: boolean;
  /** The whole message's size as given (for a stream, as announced). */
  byteLength: number;
}

export async function openMime(input: MimeSource): Promise<OpenedMime> {
  if (!isMimeStream(input)) {
    const raw = rawMime(input);
    return {
      head: raw.head,
      rest: each(raw.tail),
      complete: raw.tail.length === 0,
      byteLength: Buffer.isBuffer(input) ? input.length : input.reduce((n, p) => n + p.length, 0),
    };
  }
  const source = input.chunks[Symbol.asyncIterator]();
  const pieces: Buffer[] = [];
  let bytes = 0;
  let ended = false;
  try {
    // Enough for the head after the mbox line (which may be long: it runs to the first LF).
    while (!ended && bytes - mboxLineLength(pieces) < HEAD_BYTES && !firstHoldsHeaderBlock(pieces)) {
      const next = await source.next();
      if (next.done === true) ended = true;
      else if (next.value.length > 0) {
        pieces.push(next.value);
        bytes += next.value.length;
      }
    }
  } catch (err) {
    await source.return?.();
    throw err;
  }
  const raw = gatherHead(withoutMboxLine(pieces));
  return {
    head: raw.head,
    rest: followedBy(raw.tail, source),
    complete: ended && raw.tail.length === 0,
    byteLength: input.byteLength,
  };
}

/**
 * True when the top-level header block ends inside `piece` on a line the piece holds whole (the blank line,
 * or a line that is no header): every byte-level step (header repair, S/MIME header rewrite, where the body
 * starts) then finds all it reads in this piece.
 */
function holdsHeaderBlock(piece: Buffer): boolean {
  return piece.indexOf(LF, readHeaderBlock(piece).end) >= 0;
}

/** holdsHeaderBlock for the first piece after the mbox line, once that line is complete. */
function firstHoldsHeaderBlock(pieces: Buffer[]): boolean {
  const before = pieces.reduce((n, p) => n + p.length, 0);
  if (pieces.length === 0 || mboxLineLength(pieces) >= before) return false;
  const first = withoutMboxLine(pieces)[0];
  return first !== undefined && holdsHeaderBlock(first);
}

async function* each(pieces: readonly Buffer[]): AsyncGenerator<Buffer, undefined> {
  for (const piece of pieces) yield piece;
  return undefined;
}

/** The gathered pieces, then the source's chunks; giving the generator up gives the source up. */
async function* followedBy(
  pieces: readonly Buffer[],
  source: AsyncIterator<Buffer>,
): AsyncGenerator<Buffer, undefined> {
  let ended = false;
  try {
    for (const piece of pieces) yield piece;
    for (;;) {
      const next = await source.next();
      if (next.done === true) {
        ended = true;
        return undefined;
      }
      if (next.value.length > 0) yield next.value;
    }
  } finally {
    if (!ended) await source.return?.();
  }
}

/**
 * Bytes of a leading mbox "From " line through its LF as far as the pieces tell: 0 without one, and all of
 * them while its LF has not come yet (the head must start after it).
 */
function mboxLineLength(pieces: readonly Buffer[]): number {
  const start = firstBytes(pieces, 5);
  if (start.length < 5) return pieces.reduce((n, p) => n + p.length, 0);
  if (start.toString('latin1') !== 'From ') return 0;
  let offset = 0;
  for (const piece of pieces) {
    const lf = piece.indexOf(LF);
    if (lf >= 0) return offset + lf + 1;
    offset += piece.length;
  }
  return offset;
}

/** The message's bytes in order, as views. */
export function piecesOf(raw: RawMime): Buffer[] {
  return [raw.head, ...raw.tail];
}

export function rawHasNonWhitespace(raw: RawMime): boolean {
  return hasNonWhitespace(raw.head) || raw.tail.some(hasNonWhitespace);
}

/** stripMboxSeparator over chunks: drops a leading "From " line through its LF (all of it without one). */
function withoutMboxLine(pieces: Buffer[]): Buffer[] {
  const start = firstBytes(pieces, 5);
  if (start.toString('latin1') !== 'From ') return pieces;
  for (let i = 0; i < pieces.length; i++) {
    const lf = (pieces[i] as Buffer).indexOf(LF);
    if (lf >= 0) return [(pieces[i] as Buffer).subarray(lf + 1), ...pieces.slice(i + 1)];
  }
  return [];
}

/** The first `count` bytes of the pieces (fewer when there are not as many), copying only those. */
function firstBytes(pieces: readonly Buffer[], count: number): Buffer {
  const parts: Buffer[] = [];
  let left = count;
  for (let i = 0; i < pieces.length && left > 0; i++) {
    const part = (pieces[i] as Buffer).subarray(0, left);
    parts.push(part);
    left -= part.length;
  }
  return Buffer.concat(parts);
}

/**
 * Read-only access to chunks as if they were one Buffer, for searches that may cross chunk borders. Only the
 * few bytes around a border are ever copied.
 */
export class JoinedBytes {
  readonly #pieces: readonly Buffer[];
  readonly #starts: number[] = [];
  readonly length: number;

  constructor(pieces: readonly Buffer[]) {
    this.#pieces = pieces.filter((p) => p.length > 0);
    let offset = 0;
    for (const piece of this.#pieces) {
      this.#starts.push(offset);
      offset += piece.length;
    }
    this.length = offset;
  }

  /** The byte at `position`, or undefined past the end (as indexing a Buffer). */
  at(position: number): number | undefined {
    const i = this.#pieceAt(position);
    return i < 0 ? undefined : (this.#pieces[i] as Buffer)[position - (this.#starts[i] as number)];
  }

  /** First position ≥ `from` where `needle` starts, or -1 (as Buffer.indexOf for a non-empty needle). */
  indexOf(needle: Buffer, from = 0): number {
    for (let i = Math.max(0, this.#pieceAt(Math.max(0, from))); i >= 0 && i < this.#pieces.length; i++) {
      const piece = this.#pieces[i] as Buffer;
      const start = this.#starts[i] as number;
      const local = Math.max(0, from - start);
      const inside = piece.indexOf(needle, local);
      if (inside >= 0 && inside + needle.length <= piece.length) return start + inside;
      // A match that begins in this piece's last bytes and ends in the following pieces.
      const windowStart = Math.max(local, piece.length - needle.length + 1);
      const window = Buffer.concat([piece.subarray(windowStart), this.#following(i, needle.length - 1)]);
      const across = window.indexOf(needle);
      if (across >= 0 && windowStart + across < piece.length) return start + windowStart + across;
    }
    return -1;
  }

  /** Up to `count` bytes that follow piece `i`, gathered from as many pieces as it takes. */
  #following(i: number, count: number): Buffer {
    const parts: Buffer[] = [];
    let left = count;
    for (let j = i + 1; j < this.#pieces.length && left > 0; j++) {
      const part = (this.#pieces[j] as Buffer).subarray(0, left);
      parts.push(part);
      left -= part.length;
    }
    return Buffer.concat(parts);
  }

  /** Index of the piece holding `position`, or -1 outside the data. */
  #pieceAt(position: number): number {
    if (position < 0 || position >= this.length) return -1;
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#starts[mid] as number) <= position) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

import type { StructuredHeader } from 'mailparser';

import { bridgeError } from '../../core/errors';
import { hasNonWhitespace } from './raw-headers';
import { JoinedBytes } from './raw-mime';

const LF = 0x0a;
const HYPHEN = 0x2d;

/**
 * Refuses a top-level multipart message whose boundary never opens a part while its body holds content.
 *
 * mailparser (like every parser) reads such a message as having no parts at all, so it would go out empty and
 * the scan or text in it would be lost without anyone noticing. Typical causes are a boundary parameter that
 * does not match the delimiter lines (corpus nul-malformed.eml, 8bit-garbage-hdr.eml) or a missing one.
 * Refusing with MIME_UNPARSEABLE puts the broken device on the status page instead. An empty body is no loss
 * and passes; so does a multipart whose parts are merely unterminated (no closing delimiter: the parts run to
 * the end of the data, RFC 2046 §5.1.1 leniency every client applies).
 *
 * The body is looked at as it streams past the parser (parse.ts), piece by piece, so it is never held whole:
 * pieces are kept only until the Content-Type is known (the parser's 'headers' event, long before the body),
 * then searched one by one with the few bytes a delimiter can span carried over.
 */
export class PartsCheck {
  /** Body pieces seen before the Content-Type was known; undefined once it is. */
  #pending: Buffer[] | undefined = [];
  /** The delimiter to look for; undefined when there is nothing to check (not multipart, or found). */
  #scan: DelimiterScan | undefined;
  #multipart = false;
  #content = false;
  #boundary = false;

  /** `bodyStart`: the body's bytes in the head (after the top-level header block). */
  constructor(bodyStart: Buffer) {
    this.push(bodyStart);
  }

  /** The next bytes of the body, in order. */
  push(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#pending !== undefined) {
      this.#pending.push(piece);
      return;
    }
    if (!this.#multipart) return;
    if (!this.#content) this.#content = hasNonWhitespace(piece);
    this.#scan?.push(piece);
  }

  /** The top-level Content-Type as the parser read it: the pieces seen so far are checked now. */
  know(contentType: StructuredHeader | undefined): void {
    if (this.#pending === undefined) return;
    const pending = this.#pending;
    this.#pending = undefined;
    this.#multipart = contentType?.value.trim().toLowerCase().startsWith('multipart/') ?? false;
    const boundary = contentType?.params.boundary;
    this.#boundary = boundary !== undefined && boundary.length > 0;
    if (this.#multipart && this.#boundary)
      this.#scan = new DelimiterScan(Buffer.from(`--${boundary as string}`, 'utf8'));
    for (const piece of pending) this.push(piece);
  }

  /** At the end of the body: throws MIME_UNPARSEABLE when the parts were never found. */
  finish(contentType: StructuredHeader | undefined): void {
    this.know(contentType);
    if (!this.#multipart || !this.#content) return;
    if (this.#scan?.finish() === true) return;
    throw bridgeError('MIME_UNPARSEABLE', {
      detail: 'a multipart message whose boundary never opens a part',
    });
  }
}

/**
 * Looks for a line starting with `--boundary` that is not the close delimiter `--boundary--` (RFC 2046
 * §5.1.1) in data given piece by piece. The last bytes of each piece (a delimiter and the two after it) are
 * carried into the next search, so a delimiter cut by a piece border is still found.
 */
class DelimiterScan {
  readonly #delimiter: Buffer;
  #carry = Buffer.alloc(0);
  /** The byte before the carry; undefined at the start of the body (which counts as a line start). */
  #before: number | undefined;
  #found = false;

  constructor(delimiter: Buffer) {
    this.#delimiter = delimiter;
  }

  push(piece: Buffer): void {
    if (this.#found) return;
    const data = new JoinedBytes([this.#carry, piece]);
    if (this.#search(data, false)) {
      this.#found = true;
      this.#carry = Buffer.alloc(0);
      return;
    }
    // Every match the next piece could still change starts in the last delimiter + 1 bytes.
    const keep = Math.min(data.length, this.#delimiter.length + 1);
    const from = data.length - keep;
    if (from > 0) this.#before = data.at(from - 1);
    this.#carry = Buffer.from(copyOf(data, from, keep));
  }

  /** True when an opening delimiter was found (the data ended: what follows the last match is nothing). */
  finish(): boolean {
    if (!this.#found) this.#found = this.#search(new JoinedBytes([this.#carry]), true);
    return this.#found;
  }

  #search(data: JoinedBytes, atEnd: boolean): boolean {
    const d = this.#delimiter;
    for (let at = data.indexOf(d); at >= 0; at = data.indexOf(d, at + 1)) {
      const before = at === 0 ? this.#before : data.at(at - 1);
      const atLineStart = (at === 0 && this.#before === undefined) || before === LF;
      const after = at + d.length;
      if (!atEnd && after + 2 > data.length) return false; // the bytes after it are in the next piece
      const isClose = data.at(after) === HYPHEN && data.at(after + 1) === HYPHEN;
      if (atLineStart && !isClose) return true;
    }
    return false;
  }
}

function copyOf(data: JoinedBytes, from: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) bytes[i] = data.at(from + i) as number;
  return bytes;
}

/**
 * Byte-level view of the top-level header block. The parsed view (mailparser) decodes and normalises; the few
 * places that must change the message itself (8-bit repair before parsing, recipient headers of an S/MIME
 * message that is sent as-is) need to know exactly which bytes each header field occupies.
 */

export type LineEnding = '\r\n' | '\n';

export interface RawHeaderField {
  /** Field name as written (case kept). */
  name: string;
  /** Byte offset of the first character of the name. */
  start: number;
  /** Byte offset just past the field's last line ending (folded continuation lines included). */
  end: number;
}

export interface RawHeaderBlock {
  fields: RawHeaderField[];
  /** Offset where the header block stops: the blank separator line, or the first line that is no header. */
  end: number;
  /** The line ending of the first line, used for anything written into the block. */
  eol: LineEnding;
}

const LF = 0x0a;
const CR = 0x0d;
const FIELD_START = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * Strips an mbox "From " separator line (mbox files and some relays put one before the headers; it is not a
 * header and would make the first real header part of an invalid one). Returns a view, no copy.
 */
export function stripMboxSeparator(mime: Buffer): Buffer {
  if (mime.subarray(0, 5).toString('latin1') !== 'From ') return mime;
  const lf = mime.indexOf(LF);
  return lf < 0 ? mime.subarray(mime.length) : mime.subarray(lf + 1);
}

/** Reads the header fields of the top-level header block (RFC 5322 §2.2, folding per §2.2.3). */
export function readHeaderBlock(mime: Buffer): RawHeaderBlock {
  const fields: RawHeaderField[] = [];
  let eol: LineEnding | undefined;
  let offset = 0;
  let current: RawHeaderField | undefined;
  while (offset < mime.length) {
    const lf = mime.indexOf(LF, offset);
    const lineEnd = lf < 0 ? mime.length : lf + 1;
    const contentEnd = lf < 0 ? mime.length : lf > offset && mime[lf - 1] === CR ? lf - 1 : lf;
    if (eol === undefined && lf >= 0) eol = contentEnd < lf ? '\r\n' : '\n';
    if (contentEnd === offset) break; // the blank line that separates header and body
    const first = mime[offset];
    if (first === 0x20 || first === 0x09) {
      // A continuation line; before the first field it continues nothing and is skipped, as parsers do
      // (some relays put a line of spaces before the headers).
      if (current !== undefined) current.end = lineEnd;
    } else {
      // 200 bytes is far longer than any real field name; it bounds the work on a binary line.
      const match = FIELD_START.exec(
        mime.subarray(offset, Math.min(contentEnd, offset + 200)).toString('latin1'),
      );
      if (match === null) break; // not a header line: the message has no blank separator line
      current = { name: match[1] ?? '', start: offset, end: lineEnd };
      fields.push(current);
    }
    offset = lineEnd;
  }
  return { fields, end: offset, eol: eol ?? '\r\n' };
}

/** The unfolded value of a raw field, decoded as latin1 (byte-preserving), without the name and colon. */
export function rawFieldValue(mime: Buffer, field: RawHeaderField): string {
  const text = mime.subarray(field.start, field.end).toString('latin1');
  return text
    .slice(text.indexOf(':') + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/\r?\n$/, '')
    .trim();
}

/** True when the data holds anything but whitespace (checked on bytes: a 35 MB message is not copied). */
export function hasNonWhitespace(data: Buffer): boolean {
  for (const byte of data) if (byte !== 0x20 && byte !== 0x09 && byte !== CR && byte !== LF) return true;
  return false;
}

/** Offset of the body: just past the blank line that ends the header block (or the end, if there is none). */
export function bodyOffset(mime: Buffer, block: RawHeaderBlock): number {
  if (mime[block.end] === CR && mime[block.end + 1] === LF) return block.end + 2;
  if (mime[block.end] === LF) return block.end + 1;
  return block.end;
}

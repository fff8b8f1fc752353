import { TextDecoder } from 'node:util';

import { rawFieldValue, readHeaderBlock } from './raw-headers';

/**
 * Repairs raw 8-bit bytes in the top-level header fields before parsing.
 *
 * RFC 5322 headers are ASCII (non-ASCII goes in RFC 2047 encoded words) or, with SMTPUTF8 (RFC 6532), UTF-8.
 * Copiers and old mailers often write their local code page instead: `Subject: Scan Büro` in Windows-1252.
 * mailparser reads raw header bytes as UTF-8, which turns every such byte into U+FFFD. So a field whose bytes
 * are not valid UTF-8 is re-encoded to UTF-8 from, in order of preference:
 *   1. the charset of the top-level Content-Type (devices use one code page for header and body), if it is
 *      one the WHATWG Encoding Standard knows and the bytes are valid in it;
 *   2. Windows-1252 (ISO-8859-1 plus printable 0x80–0x9F; every byte decodes: the usual copier code page).
 * Valid UTF-8 is left alone. Only the top-level header block is touched; part headers (attachment names)
 * are left to mailparser, which honours RFC 2231/2047 there. Returns the input itself when nothing changed.
 */
export function repairEightBitHeaders(mime: Buffer): Buffer {
  const pieces = repairedPieces(mime);
  return pieces.length === 1 && pieces[0] === mime ? mime : Buffer.concat(pieces);
}

/**
 * The same repair as pieces to be read in order: views into `mime` around the re-encoded fields, so a large
 * message is not copied whole to change a few header bytes. `[mime]` when nothing changed.
 */
export function repairedPieces(mime: Buffer): Buffer[] {
  const block = readHeaderBlock(mime);
  const broken = block.fields.filter(
    (f) => hasHighBytes(mime, f.start, f.end) && !isUtf8(mime.subarray(f.start, f.end)),
  );
  if (broken.length === 0) return [mime];

  const contentType = block.fields.find((f) => f.name.toLowerCase() === 'content-type');
  const hint = contentType === undefined ? undefined : charsetDecoder(rawFieldValue(mime, contentType));
  const pieces: Buffer[] = [];
  let offset = 0;
  for (const field of broken) {
    pieces.push(mime.subarray(offset, field.start));
    pieces.push(Buffer.from(decodeLegacy(mime.subarray(field.start, field.end), hint), 'utf8'));
    offset = field.end;
  }
  pieces.push(mime.subarray(offset));
  return pieces;
}

function hasHighBytes(mime: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((mime[i] ?? 0) >= 0x80) return true;
  return false;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A strict decoder for the charset parameter of a Content-Type value, when it names a legacy charset. */
function charsetDecoder(contentTypeValue: string): TextDecoder | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentTypeValue);
  const label = match?.[1]?.toLowerCase();
  if (label === undefined || label === 'utf-8' || label === 'utf8' || label === 'us-ascii') return undefined;
  try {
    const decoder = new TextDecoder(label, { fatal: true });
    // ISO-8859-1, US-ASCII and Windows-1252 are one encoding in the Encoding Standard: the fallback below.
    return decoder.encoding === 'windows-1252' ? undefined : decoder;
  } catch {
    return undefined; // a charset the Encoding Standard does not know (or a misspelt one)
  }
}

function decodeLegacy(bytes: Buffer, hint: TextDecoder | undefined): string {
  if (hint !== undefined) {
    try {
      return hint.decode(bytes);
    } catch {
      // not valid in the declared charset either: fall through to Windows-1252
    }
  }
  return decodeWindows1252(bytes);
}

/**
 * Windows-1252 assigns printable characters (€, „, …, Š, œ…) to 0x80–0x9F where ISO-8859-1 has C1 controls.
 * Node's TextDecoder('windows-1252') does not return them (on Node 20.20 it drops 0x80, "€"), so the 27
 * differences from ISO-8859-1 are mapped here; the five unassigned bytes stay C1 controls, as in the WHATWG table.
 */
const WINDOWS_1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes)
    out += byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_HIGH.charAt(byte - 0x80) : String.fromCharCode(byte);
  return out;
}

import type { ParsedMail, StructuredHeader } from 'mailparser';

import { bridgeError } from '../../core/errors';
import { parseInChunks } from './chunked-parse';
import { repairedPieces } from './eight-bit-headers';
import { assertPartsFound } from './multipart-check';
import { readHeaderBlock } from './raw-headers';
import { rawHasNonWhitespace, rawMime, type MimeBytes, type RawMime } from './raw-mime';

export interface ParsedMessage {
  /** The message as received, minus a leading mbox "From " line: what an S/MIME pass-through sends. */
  source: RawMime;
  mail: ParsedMail;
}

/**
 * mailparser options. The parse feeds a Graph message, not a viewer, so:
 * - keepCidLinks: `cid:` references stay in the HTML (Graph resolves them against inline attachments; the
 *   default would inline every image a second time as a data: URL).
 * - ignoreEmbedded: every message/rfc822 part stays one attachment (sent as an .eml file), instead of being
 *   merged into the body when its disposition is inline; forwarded mail keeps its own headers and parts.
 * - skipHtmlToText / skipTextLinks / checksumAlgo false: work nobody reads.
 * - maxHeadSize / maxChildNodes keep mailparser's defaults (1 MB per header block, 1000 parts): beyond those
 *   the message is refused as unparseable rather than parsed partially.
 */
const PARSER_OPTIONS = {
  keepCidLinks: true,
  ignoreEmbedded: true,
  skipHtmlToText: true,
  skipTextLinks: true,
  checksumAlgo: false,
} as const;

/**
 * Parses raw MIME into mailparser's model, after the copier repairs that must happen on bytes (mbox line,
 * 8-bit headers, no header at all). Refuses, with MIME_UNPARSEABLE, only what cannot be delivered without
 * losing content: empty data, what mailparser gives up on (a header block over 1 MB, more than 1000 parts),
 * and a multipart message whose boundary never opens a part (see multipart-check.ts).
 *
 * Data whose first line is not a header field is all body (RFC 5322 requires From and Date, but MTAs accept
 * and repair such mail, and refusing it would lose the device's message): it is parsed behind an empty
 * header block, so the first line is not mistaken for a header, and goes out as text with an empty subject.
 */
export async function parseMime(mime: MimeBytes): Promise<ParsedMessage> {
  const source = rawMime(mime);
  if (!rawHasNonWhitespace(source)) {
    throw bridgeError('MIME_UNPARSEABLE', { detail: 'the message is empty' });
  }
  let mail: ParsedMail;
  try {
    // Pieces read in order, so neither the empty header block nor a header repair copies the message.
    const { head, tail } = source;
    const input =
      readHeaderBlock(head).fields.length === 0
        ? [Buffer.from('\r\n'), head, ...tail]
        : [...repairedPieces(head), ...tail];
    mail = await parseInChunks(input, PARSER_OPTIONS);
  } catch (cause) {
    throw bridgeError('MIME_UNPARSEABLE', {
      cause,
      detail: 'the MIME structure exceeds the parser limits or is broken',
    });
  }
  assertPartsFound(source, contentTypeOf(mail));
  return { source, mail };
}

/** The top-level Content-Type as mailparser parsed it ({ value, params }), if the message has one. */
export function contentTypeOf(mail: ParsedMail): StructuredHeader | undefined {
  const value = mail.headers.get('content-type');
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('value' in value))
    return undefined;
  const header = value as Partial<StructuredHeader>;
  return typeof header.value === 'string' ? { value: header.value, params: header.params ?? {} } : undefined;
}

import type { Headers, ParsedMail, StructuredHeader } from 'mailparser';

import { bridgeError } from '../../core/errors';
import { parseInChunks } from './chunked-parse';
import { repairedPieces } from './eight-bit-headers';
import { PartsCheck } from './multipart-check';
import { mustSendAsMime } from './opaque-mime';
import { bodyOffset, hasNonWhitespace, readHeaderBlock } from './raw-headers';
import { openMime, type MimeSource, type RawMime } from './raw-mime';

export interface ParsedMessage {
  /**
   * The message as received, minus a leading mbox "From " line: what an S/MIME pass-through sends. Kept only
   * for such a message (opaque-mime.ts mustSendAsMime) when content is kept: any other message is never held
   * whole here, only streamed through the parser.
   */
  source?: RawMime;
  mail: ParsedMail;
}

export interface ParseOptions {
  /**
   * false: attachments' content is read and dropped, and no source is kept (a caller that checks the message
   * but will not send it from this parse). Default true.
   */
  keepContent?: boolean;
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
 *
 * The message is read once, in order (raw-mime.ts openMime): the head, which holds the top-level header
 * block, then the rest as it comes, so a stream is parsed while it arrives. An error of the stream is thrown
 * as it is (a storage failure is not a broken message).
 */
export async function parseMime(input: MimeSource, opts: ParseOptions = {}): Promise<ParsedMessage> {
  const keepContent = opts.keepContent ?? true;
  const { head, rest, complete, byteLength } = await openMime(input);
  let sawContent = hasNonWhitespace(head);
  if (complete && !sawContent) throw emptyMessage();
  const block = readHeaderBlock(head);
  const parts = new PartsCheck(head.subarray(bodyOffset(head, block)));
  /** The rest as read, kept while an S/MIME pass-through may need it (until the Content-Type is known). */
  let tail: Buffer[] | undefined = keepContent ? [] : undefined;
  const know = (contentType: StructuredHeader | undefined): void => {
    parts.know(contentType);
    if (!mustSendAsMime(contentType)) tail = undefined;
  };
  let sourceError: { error: unknown } | undefined;
  async function* pieces(): AsyncGenerator<Buffer> {
    // Pieces read in order, so neither the empty header block nor a header repair copies the message.
    yield* block.fields.length === 0 ? [Buffer.from('\r\n'), head] : repairedPieces(head);
    try {
      for (;;) {
        let next: IteratorResult<Buffer, undefined>;
        try {
          next = await rest.next();
        } catch (error) {
          sourceError = { error };
          throw error;
        }
        if (next.done === true) return;
        const piece = next.value;
        if (!sawContent) sawContent = hasNonWhitespace(piece);
        parts.push(piece);
        tail?.push(piece);
        yield piece;
      }
    } finally {
      await rest.return?.(undefined); // a parse that stopped early gives the source up
    }
  }

  let mail: ParsedMail;
  try {
    mail = await parseInChunks(pieces(), PARSER_OPTIONS, undefined, {
      maxContentBytes: byteLength,
      keepContent,
      onHeaders: (headers) => know(contentTypeFrom(headers)),
    });
  } catch (cause) {
    if (sourceError !== undefined) throw sourceError.error;
    // Only whitespace before the parser gave up (it cannot give up on a body without structure).
    if (!sawContent) throw emptyMessage();
    throw bridgeError('MIME_UNPARSEABLE', {
      cause,
      detail: 'the MIME structure exceeds the parser limits or is broken',
    });
  }
  if (!sawContent) throw emptyMessage();
  const contentType = contentTypeOf(mail);
  know(contentType);
  parts.finish(contentType);
  return tail === undefined ? { mail } : { mail, source: { head, tail } };
}

function emptyMessage() {
  return bridgeError('MIME_UNPARSEABLE', { detail: 'the message is empty' });
}

/** The top-level Content-Type as mailparser parsed it ({ value, params }), if the message has one. */
export function contentTypeOf(mail: ParsedMail): StructuredHeader | undefined {
  return contentTypeFrom(mail.headers);
}

function contentTypeFrom(headers: Headers | undefined): StructuredHeader | undefined {
  const value = headers?.get('content-type');
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('value' in value))
    return undefined;
  const header = value as Partial<StructuredHeader>;
  return typeof header.value === 'string' ? { value: header.value, params: header.params ?? {} } : undefined;
}

import {
  MailParser,
  type Attachment,
  type AttachmentStream,
  type HeaderLines,
  type Headers,
  type MailParserOptions,
  type MessageText,
  type ParsedMail,
} from 'mailparser';

import { ContentCollector } from './content-collector';

/**
 * mailparser's simpleParser, fed in slices instead of one write, so a large message is parsed in bounded
 * memory.
 *
 * simpleParser(buffer) writes the whole message at once. mailparser's input stage then copies it (its
 * ChunkedPassthrough concatenates every write), the splitter hands the whole base64 body of an attachment to
 * the decoder as one chunk, and the decoder turns that chunk into a latin1 string, strips the line breaks
 * into a second string and decodes it: for a 30 MB scan about 150 MB above the message itself. Written in
 * 64 KiB slices with backpressure, every stage holds one slice at a time; what remains is the message (the
 * caller's) and the decoded attachments, each held once (content-collector.ts).
 *
 * The result is what simpleParser returns for the same options — same listeners, same order, same fields —
 * with `keepCidLinks` (the only mode the bridge uses: cid: links stay, nothing is inlined as data: URLs).
 *
 * The pieces may be a stream (the queue trigger's blob download): the next piece is read only when the
 * parser has taken the previous one, so the message is never held whole; a parse that stops early gives the
 * stream up (`return()`), and an error of the stream rejects the parse with that error.
 */
export const PARSER_FEED_BYTES = 64 * 1024;

export interface ParseHooks {
  /**
   * Upper bound of an attachment's decoded size, for the collectors' reservation: the message's size. Taken
   * from the pieces when they are an array; a stream must say it.
   */
  maxContentBytes?: number;
  /**
   * false: every attachment's content is read and dropped (its `content` is an empty Buffer): for a caller
   * that needs the message's headers, text and structure but will not send its files.
   */
  keepContent?: boolean;
  /** The top-level header block is parsed (before any of the body is). */
  onHeaders?: (headers: Headers) => void;
}

type ParsedFields = {
  -readonly [K in keyof ParsedMail]: ParsedMail[K];
};

/** Header fields simpleParser copies onto the result at the end, under their camel-case names. */
const HEADER_FIELDS = [
  'subject',
  'references',
  'date',
  'to',
  'from',
  'cc',
  'bcc',
  'message-id',
  'in-reply-to',
  'reply-to',
] as const;

const TEXT_FIELDS = ['text', 'html', 'textAsHtml', 'textConversionError'] as const;

export function parseInChunks(
  pieces: readonly Buffer[] | AsyncIterable<Buffer>,
  options: MailParserOptions & { keepCidLinks: true },
  feedBytes = PARSER_FEED_BYTES,
  hooks: ParseHooks = {},
): Promise<ParsedMail> {
  return new Promise((resolve, reject) => {
    // mailparser may emit a non-fatal 'error' and still reach 'end': the first error or the result wins.
    let settled = false;
    const maxContentBytes =
      hooks.maxContentBytes ?? (Array.isArray(pieces) ? pieces.reduce((n, p) => n + p.length, 0) : 0);
    const keepContent = hooks.keepContent ?? true;
    const mail = { attachments: [] as Attachment[] } as Partial<ParsedFields> & { attachments: Attachment[] };
    const parser = new MailParser(options);
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err);
    };

    parser.on('error', fail);
    parser.on('headers', (headers) => {
      mail.headers = headers;
      mail.headerLines = parser.headerLines as HeaderLines;
      if (parser.otp) mail.otp = parser.otp;
      hooks.onHeaders?.(headers);
    });

    // One object at a time; an attachment's content is collected before the next object is read.
    let reading = false;
    const readNext = (): void => {
      reading = true;
      const data = parser.read();
      if (data === null) {
        reading = false;
        return;
      }
      if (data.type === 'text') copyText(mail, data);
      if (data.type === 'attachment')
        collectAttachment(data, keepContent ? maxContentBytes : undefined, mail.attachments, readNext);
      else readNext();
    };
    parser.on('readable', () => {
      if (!reading) readNext();
    });

    parser.on('end', () => {
      const headers = mail.headers;
      for (const key of HEADER_FIELDS) {
        if (headers?.has(key)) {
          const name = key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof ParsedFields;
          (mail as Record<string, unknown>)[name] = headers.get(key);
        }
      }
      if (settled) return;
      settled = true;
      resolve(mail as ParsedMail);
    });

    feed(parser, pieces, feedBytes, () => settled).catch(fail);
  });
}

function copyText(mail: Partial<ParsedFields>, data: MessageText): void {
  for (const key of TEXT_FIELDS) {
    if (Object.hasOwn(data, key)) (mail as Record<string, unknown>)[key] = data[key];
  }
}

/**
 * Reads the decoded content into one Buffer (content-collector.ts: never held twice), or drops it when
 * `maxBytes` is undefined (the caller keeps no content), then releases the attachment so the parser goes on.
 * `maxBytes` bounds the content: the size of the whole message.
 */
function collectAttachment(
  stream: AttachmentStream,
  maxBytes: number | undefined,
  into: Attachment[],
  then: () => void,
): void {
  into.push(stream as unknown as Attachment);
  const collector = maxBytes === undefined ? undefined : new ContentCollector(maxBytes);
  const content = stream.content;
  content.on('readable', () => {
    let chunk: Buffer | null;
    while ((chunk = content.read() as Buffer | null) !== null) collector?.append(chunk);
  });
  content.on('end', () => {
    (stream as unknown as Attachment).content = collector?.finish() ?? Buffer.alloc(0);
    stream.release?.();
    then();
  });
}

/**
 * Writes the pieces in slices of `feedBytes` (views, not copies), waiting for 'drain' when the parser is
 * full, and reading the next piece only then. Stops when the parse is settled; a stream given up early is
 * told so (`return()`), and its error rejects.
 */
async function feed(
  parser: MailParser,
  pieces: readonly Buffer[] | AsyncIterable<Buffer>,
  feedBytes: number,
  stopped: () => boolean,
): Promise<void> {
  const source: Iterator<Buffer> | AsyncIterator<Buffer> = Array.isArray(pieces)
    ? (pieces as readonly Buffer[])[Symbol.iterator]()
    : (pieces as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let ended = false;
  try {
    while (!stopped()) {
      const next = await source.next();
      if (next.done === true) {
        ended = true;
        parser.end();
        return;
      }
      const piece = next.value;
      for (let offset = 0; offset < piece.length && !stopped();) {
        const end = Math.min(offset + feedBytes, piece.length);
        const more = parser.write(piece.subarray(offset, end));
        offset = end;
        if (!more) await drained(parser);
      }
    }
  } finally {
    if (!ended) await source.return?.();
  }
}

/** The parser took what it was given, or failed (then the caller sees it settled). */
function drained(parser: MailParser): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      parser.off('drain', done);
      parser.off('error', done);
      parser.off('close', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('error', done);
    parser.on('close', done);
  });
}

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { type Envelope, envelopeSchema } from './envelope';
import { bridgeError, type SerializedBridgeError } from './errors';

/**
 * The HTTP contract between the edge listener and the function. Both sides import this file and nothing else
 * of each other.
 *
 * Request: `POST /api/v1/messages`
 *   body   = frame head + raw MIME bytes exactly as received (never base64):
 *            `SGB/1 <n>\r\n` + <n bytes of envelope JSON> + `\r\n` + <raw MIME>
 *            The envelope goes in the body, not in headers, because 500 recipients do not fit the header
 *            limits of Azure's front ends; a length prefix lets the function stream the MIME without scanning.
 *   headers: see WIRE_HEADERS. The signature is HMAC-SHA256 with the site secret, base64url, sent as
 *            `x-bridge-signature: v2=<mac>` over (SIGNATURE_V2, the current scheme)
 *            `SGB/2 \n method \n path \n canonicalQuery \n timestamp \n messageId \n sha256(body)`
 *            (hex digest of the whole body, so the envelope is covered too; canonicalQuery below).
 *            The previous scheme SGB/1 — a bare `<mac>` over `method \n path \n timestamp \n messageId \n
 *            sha256(body)` — left the query string unsigned, so a captured signed GET could be replayed with
 *            other parameters (docs/security-model.md). For one release the function still accepts an SGB/1
 *            signature on a request WITHOUT a query string (every POST and status GET an older edge sends);
 *            an SGB/1 signature on a request with a query is refused. The frame format (`SGB/1 <n>` in
 *            the body) did not change and keeps its magic.
 *
 * Response: JSON `WireResult`. 200 sent, 202 queued, 422 rejected (permanent), 401 auth, 413 too large,
 * 409/429/503 retryable (with Retry-After).
 *
 * Idempotency: `envelope.messageId` (= x-bridge-message-id) is the key. The function records each id's
 * outcome per site and answers a repeated id with the recorded outcome — it never sends twice. The edge posts
 * a message under its spool id, and every automatic retry reuses that id. An explicit admin retry of a
 * message the FUNCTION failed for good (422: a sender not allowed yet, Graph access denied, expired in the
 * cloud) is a resubmission: the edge persists a counter n in the spool entry, then posts under
 * `<spoolId>.r<n>` (spool ids contain no '.', so this never collides; it matches MESSAGE_ID_PATTERN). The
 * function sees a new id and takes the message afresh; the old id keeps its recorded failure. Status reads
 * (GET /api/v1/messages/{id}) use the current submission id. Only a definite failure answered by the function
 * is resubmitted: a message the edge expired itself (no definite answer) keeps its id, because the function
 * may have taken it.
 */
export const WIRE_PATH = '/api/v1/messages';
export const WIRE_CONTENT_TYPE = 'application/vnd.smtp-graph-bridge.v1';
export const FRAME_MAGIC = 'SGB/1';
/** An envelope of 500 recipients of 320 characters is ~170 KB of JSON; anything larger is malformed. */
export const MAX_ENVELOPE_JSON_BYTES = 256 * 1024;
/** Requests whose timestamp is further than this from the function's clock are refused (replay window). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export const WIRE_HEADERS = {
  site: 'x-bridge-site',
  messageId: 'x-bridge-message-id',
  timestamp: 'x-bridge-timestamp',
  bodySha256: 'x-bridge-content-sha256',
  signature: 'x-bridge-signature',
  /** Azure Functions key for authLevel 'function'. */
  functionKey: 'x-functions-key',
} as const;

export type MessageState = 'received' | 'sent' | 'queued' | 'failed';

/** What the function answers to POST and GET. */
export interface WireResult {
  id: string;
  state: MessageState;
  /** Mailbox that sent (or will send) the message. */
  sender?: string;
  graphRequestId?: string;
  error?: SerializedBridgeError;
  /** True when the answer is a recorded outcome of an earlier request with the same id. */
  replayed?: boolean;
  updatedAt?: string;
  /**
   * While `queued`: the error of the cloud's last attempt, so the edge's status page can show why a message
   * the cloud holds has not gone yet (see docs/design/custody.md).
   */
  lastError?: SerializedBridgeError;
  /** While `queued`: when the cloud will try next (ISO 8601). */
  nextAttemptAt?: string;
  /** When `sent`: the outcome was found by looking in the sender's Sent Items after Graph's answer was lost. */
  reconciled?: boolean;
  /** When `sent` and known: Graph's id of the sent message. */
  graphMessageId?: string;
}

export function frameHead(envelope: Envelope): Buffer {
  const json = Buffer.from(JSON.stringify(envelope), 'utf8');
  return Buffer.concat([
    Buffer.from(`${FRAME_MAGIC} ${json.length}\r\n`, 'ascii'),
    json,
    Buffer.from('\r\n'),
  ]);
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface SignatureInput {
  method: string;
  path: string;
  /** The request's query: a raw `?a=b` / `a=b` string or URLSearchParams; absent = none. Canonicalised before signing. */
  query?: string | URLSearchParams;
  timestamp: string;
  messageId: string;
  bodySha256: string;
}

/** Prefix of a signature header value in the current scheme; a value without it is an SGB/1 signature. */
export const SIGNATURE_V2_PREFIX = 'v2=';
/** First line of the SGB/2 signature base, so a MAC of one scheme can never verify under the other. */
const SIGNATURE_V2_TAG = 'SGB/2';

export type SignatureVersion = 1 | 2;

export function signatureVersion(signature: string): SignatureVersion {
  return signature.startsWith(SIGNATURE_V2_PREFIX) ? 2 : 1;
}

/**
 * The query as it is signed: parsed the way the function reads it (URLSearchParams, `+` = space, percent
 * escapes decoded, an invalid escape kept literally), each name and value re-encoded with RFC 3986
 * unreserved characters only (`A-Z a-z 0-9 - . _ ~` stay, every other UTF-8 byte is `%XX` upper case),
 * pairs sorted by encoded name then encoded value, joined with `=` and `&`. So `?b=2&a=%7e` and `?a=~&b=2`
 * sign the same, and a proxy that re-encodes the query does not break the signature; a parameter added,
 * removed or changed does. The route must not give meaning to the order of parameters (none does).
 */
export function canonicalQuery(query: string | URLSearchParams | undefined): string {
  if (query === undefined) return '';
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of params) pairs.push([rfc3986(name), rfc3986(value)]);
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

function rfc3986(text: string): string {
  // encodeURIComponent leaves !'()* unescaped; RFC 3986 reserves them. URLSearchParams holds well-formed
  // strings only (lone surrogates become U+FFFD), so encodeURIComponent cannot throw here.
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The SGB/2 signature base (the current scheme): the query is part of it. */
export function signatureBase(input: SignatureInput): string {
  return [
    SIGNATURE_V2_TAG,
    input.method.toUpperCase(),
    input.path,
    canonicalQuery(input.query),
    input.timestamp,
    input.messageId,
    input.bodySha256,
  ].join('\n');
}

/** The SGB/1 signature base (accepted for one release, on requests without a query only). */
export function signatureBaseV1(input: SignatureInput): string {
  return [input.method.toUpperCase(), input.path, input.timestamp, input.messageId, input.bodySha256].join(
    '\n',
  );
}

function mac(base: string, secret: string): string {
  return createHmac('sha256', secret).update(base).digest('base64url');
}

/** The signature header value the edge sends: `v2=<mac>`. */
export function sign(input: SignatureInput, secret: string): string {
  return `${SIGNATURE_V2_PREFIX}${mac(signatureBase(input), secret)}`;
}

/** An SGB/1 signature (a bare MAC without the query): what edges before SGB/2 send; tests of the transition use it. */
export function signV1(input: SignatureInput, secret: string): string {
  return mac(signatureBaseV1(input), secret);
}

/**
 * Checks a signature header value of either scheme. An SGB/1 signature verifies only when the request has
 * no query (canonicalQuery empty): it does not cover one, so it cannot vouch for one.
 */
export function verifySignature(input: SignatureInput, secret: string, signature: string): boolean {
  if (signatureVersion(signature) === 1 && canonicalQuery(input.query) !== '') return false;
  const expected = Buffer.from(
    signatureVersion(signature) === 2 ? sign(input, secret) : signV1(input, secret),
  );
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Builds the signed headers for one request (the caller adds content-length and the function key). */
export function signedHeaders(args: {
  siteId: string;
  messageId: string;
  bodySha256: string;
  secret: string;
  now?: Date;
  method?: string;
  path?: string;
  /** The query the request URL will carry (signed in canonical form; the URL may encode it either way). */
  query?: string | URLSearchParams;
}): Record<string, string> {
  const timestamp = String(Math.floor((args.now ?? new Date()).getTime() / 1000));
  const input: SignatureInput = {
    method: args.method ?? 'POST',
    path: args.path ?? WIRE_PATH,
    timestamp,
    messageId: args.messageId,
    bodySha256: args.bodySha256,
    ...(args.query !== undefined ? { query: args.query } : {}),
  };
  return {
    [WIRE_HEADERS.site]: args.siteId,
    [WIRE_HEADERS.messageId]: args.messageId,
    [WIRE_HEADERS.timestamp]: timestamp,
    [WIRE_HEADERS.bodySha256]: args.bodySha256,
    [WIRE_HEADERS.signature]: sign(input, args.secret),
  };
}

/** SHA-256 of an empty body, used by signed GET requests. */
export const EMPTY_SHA256 = sha256Hex('');

/**
 * Incremental decoder of the frame head. Feed it chunks; once `envelope` is set, `rest` holds the first MIME
 * bytes and every later chunk is MIME. Throws WIRE_MALFORMED on anything unexpected.
 */
export class FrameDecoder {
  #buffered: Buffer = Buffer.alloc(0);
  #jsonLength = -1;
  #headLength = 0;
  envelope: Envelope | undefined;

  /** Returns the MIME bytes contained in this chunk (possibly empty). */
  push(chunk: Uint8Array): Buffer {
    if (this.envelope) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    if (this.#jsonLength < 0) {
      const eol = this.#buffered.indexOf('\r\n');
      if (eol < 0) {
        if (this.#buffered.length > 32) throw malformed('frame head line too long');
        return Buffer.alloc(0);
      }
      const m = /^SGB\/1 (\d{1,7})$/.exec(this.#buffered.subarray(0, eol).toString('latin1'));
      if (!m?.[1]) throw malformed('bad frame head');
      this.#jsonLength = Number(m[1]);
      if (this.#jsonLength > MAX_ENVELOPE_JSON_BYTES) throw malformed('envelope too large');
      this.#headLength = eol + 2;
    }
    const end = this.#headLength + this.#jsonLength;
    if (this.#buffered.length < end + 2) return Buffer.alloc(0);
    if (this.#buffered[end] !== 13 || this.#buffered[end + 1] !== 10)
      throw malformed('missing CRLF after envelope');
    this.envelope = parseEnvelopeJson(this.#buffered.subarray(this.#headLength, end));
    const rest = this.#buffered.subarray(end + 2);
    this.#buffered = Buffer.alloc(0);
    return rest;
  }

  /** Call at end of body: throws when the head never completed. */
  finish(): Envelope {
    if (!this.envelope) throw malformed('body ended inside the frame head');
    return this.envelope;
  }
}

function parseEnvelopeJson(bytes: Buffer): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw bridgeError('WIRE_MALFORMED', { detail: 'envelope is not JSON', cause });
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw malformed(`envelope invalid at ${first?.path.join('.') ?? '?'}: ${first?.message ?? ''}`);
  }
  return parsed.data;
}

function malformed(detail: string) {
  return bridgeError('WIRE_MALFORMED', { detail });
}

/** Decodes a whole frame held in memory (tests, small messages). */
export function decodeFrame(body: Uint8Array): { envelope: Envelope; mime: Buffer } {
  const d = new FrameDecoder();
  const mime = d.push(body);
  return { envelope: d.finish(), mime };
}

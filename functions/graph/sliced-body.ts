import { base64Length } from './graph-limits';

/**
 * A request body whose length is known up front and whose bytes are made slice by slice while the socket
 * takes them. A 3 MB scan sent as one sendMail used to exist five times over during the request (base64
 * string, JSON string, fetch's UTF-8 copy, TLS records of the whole body): here the attachment stays the only
 * whole copy and its base64 exists one slice at a time (bench/results/function.md).
 */

/** Text of the JSON around the attachments (UTF-8), or attachment bytes that go out as base64. */
export type BodyPart = string | { base64Of: Buffer };

export interface SlicedBody {
  readonly byteLength: number;
  /** The bytes in order, in slices of at most SLICE_BYTES; may be iterated again (a retried request). */
  slices(): Iterable<Buffer>;
}

/** Raw bytes per base64 slice: a multiple of 3, so the slices' base64 joined equals the whole's base64. */
const BASE64_SLICE_INPUT_BYTES = 3 * 64 * 1024;
/** 256 KiB: the base64 of one input slice, and the size text parts are cut to (as upload-put.ts writes). */
export const SLICE_BYTES = base64Length(BASE64_SLICE_INPUT_BYTES);

export function slicedBody(parts: readonly BodyPart[]): SlicedBody {
  const byteLength = parts.reduce(
    (n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) : base64Length(p.base64Of.length)),
    0,
  );
  return {
    byteLength,
    *slices() {
      for (const p of parts) {
        if (typeof p === 'string') {
          const bytes = Buffer.from(p);
          for (let at = 0; at < bytes.length; at += SLICE_BYTES) yield bytes.subarray(at, at + SLICE_BYTES);
          continue;
        }
        const raw = p.base64Of;
        for (let at = 0; at < raw.length; at += BASE64_SLICE_INPUT_BYTES) {
          // base64 is ASCII: latin1 turns the string into bytes one to one, with no UTF-8 pass.
          yield Buffer.from(raw.subarray(at, at + BASE64_SLICE_INPUT_BYTES).toString('base64'), 'latin1');
        }
      }
    },
  };
}

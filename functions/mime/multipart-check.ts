import type { StructuredHeader } from 'mailparser';

import { bridgeError } from '../../core/errors';
import { bodyOffset, hasNonWhitespace, readHeaderBlock } from './raw-headers';
import { JoinedBytes, type RawMime } from './raw-mime';

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
 */
export function assertPartsFound(source: RawMime, contentType: StructuredHeader | undefined): void {
  if (!(contentType?.value.trim().toLowerCase().startsWith('multipart/') ?? false)) return;
  const { head, tail } = source;
  const body = [head.subarray(bodyOffset(head, readHeaderBlock(head))), ...tail];
  if (!body.some(hasNonWhitespace)) return;
  const boundary = contentType?.params.boundary;
  if (
    boundary !== undefined &&
    boundary.length > 0 &&
    hasOpeningDelimiter(new JoinedBytes(body), Buffer.from(`--${boundary}`, 'utf8'))
  ) {
    return;
  }
  throw bridgeError('MIME_UNPARSEABLE', { detail: 'a multipart message whose boundary never opens a part' });
}

/** A line starting with `--boundary` that is not the close delimiter `--boundary--` (RFC 2046 §5.1.1). */
function hasOpeningDelimiter(body: JoinedBytes, delimiter: Buffer): boolean {
  for (let at = body.indexOf(delimiter); at >= 0; at = body.indexOf(delimiter, at + 1)) {
    const atLineStart = at === 0 || body.at(at - 1) === LF;
    const after = at + delimiter.length;
    const isClose = body.at(after) === HYPHEN && body.at(after + 1) === HYPHEN;
    if (atLineStart && !isClose) return true;
  }
  return false;
}

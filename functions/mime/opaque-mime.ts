import type { StructuredHeader } from 'mailparser';

import { addressKey } from '../../core/envelope';
import type { Mailbox } from './address';
import { formatAddressField, formatDateField } from './header-format';
import { readHeaderBlock } from './raw-headers';
import type { ReconciledRecipients } from './recipients';
import type { SenderHeaders } from './sender-display';

/**
 * Whether the message must be sent as its own bytes instead of being rebuilt from its parts.
 *
 * A signature covers the exact bytes of the signed part (RFC 8551 §3.5 for S/MIME multipart/signed, RFC 3156
 * §5 for PGP/MIME), and an encrypted body cannot be parsed at all, so rebuilding either one as a Graph JSON
 * message would break or lose it. That is multipart/signed (any protocol), multipart/encrypted (PGP/MIME) and
 * application/pkcs7-mime (S/MIME signed-data, enveloped-data, authEnveloped-data, compressed-data).
 */
export function mustSendAsMime(contentType: StructuredHeader | undefined): boolean {
  const value = contentType?.value.trim().toLowerCase() ?? '';
  return (
    value === 'multipart/signed' ||
    value === 'multipart/encrypted' ||
    value === 'application/pkcs7-mime' ||
    value === 'application/x-pkcs7-mime'
  );
}

/**
 * The original bytes with only the top-level header fields Graph reads rewritten. Graph has no envelope: it
 * takes the recipients of a MIME submission from To/Cc/Bcc and honours Bcc (docs/design/platform-facts.md §A1), so To, Cc
 * and Bcc are replaced by the reconciled lists (envelope-only recipients in a new Bcc field). From is replaced
 * only when the sending mailbox is not the message's From (default sender, or From taken from MAIL FROM);
 * Reply-To is added only when the sender was rewritten and the message had none; Date only when missing
 * (RFC 5322 §3.6 requires it). Message-ID is replaced by the bridge's (internet-message-id.ts), the key of
 * the Sent Items lookup after a lost answer. Outer header fields are outside every signature, so nothing signed changes.
 * The new fields take the place of the first field they replace, with the message's own line ending.
 * `rest` is what follows `source` when the message came in chunks (source then holds the header block).
 */
export function reconcileMimeHeaders(
  source: Buffer,
  recipients: ReconciledRecipients,
  sender: SenderHeaders,
  headerFrom: readonly Mailbox[],
  receivedAt: Date,
  rest: readonly Buffer[] = [],
  internetMessageId?: string,
): Buffer {
  const block = readHeaderBlock(source);
  const named = (name: string) => block.fields.filter((f) => f.name.toLowerCase() === name);
  const replaceFrom =
    headerFrom[0] === undefined || addressKey(headerFrom[0].address) !== addressKey(sender.from.address);
  const addReplyTo = sender.replyTo.length > 0 && named('reply-to').length === 0;

  const removed = new Set([
    'to',
    'cc',
    'bcc',
    ...(replaceFrom ? ['from'] : []),
    ...(internetMessageId ? ['message-id'] : []),
  ]);
  let added = '';
  if (internetMessageId) added += `Message-ID: ${internetMessageId}${block.eol}`;
  if (replaceFrom) added += formatAddressField('From', [sender.from], block.eol);
  if (addReplyTo) added += formatAddressField('Reply-To', sender.replyTo, block.eol);
  if (named('date').length === 0) added += formatDateField(receivedAt, block.eol);
  if (recipients.to.length > 0) added += formatAddressField('To', recipients.to, block.eol);
  if (recipients.cc.length > 0) added += formatAddressField('Cc', recipients.cc, block.eol);
  if (recipients.bcc.length > 0) added += formatAddressField('Bcc', recipients.bcc, block.eol);

  const pieces: Buffer[] = [];
  let offset = 0;
  let insertAt: number | undefined;
  for (const field of block.fields) {
    if (!removed.has(field.name.toLowerCase())) continue;
    pieces.push(source.subarray(offset, field.start));
    if (insertAt === undefined) {
      insertAt = field.start;
      pieces.push(Buffer.from(added, 'utf8'));
    }
    offset = field.end;
  }
  if (insertAt === undefined) {
    // No field was replaced: the new ones go at the end of the header block, before the blank line.
    pieces.push(
      source.subarray(0, block.end),
      ...terminatedBlock(source, block.end, block.eol),
      Buffer.from(added, 'utf8'),
    );
    offset = block.end;
  }
  pieces.push(source.subarray(offset), ...rest);
  return Buffer.concat(pieces);
}

/** A header block that ends without a line ending (header-only message) needs one before new fields. */
function terminatedBlock(source: Buffer, end: number, eol: string): Buffer[] {
  return end > 0 && source[end - 1] !== 0x0a ? [Buffer.from(eol, 'latin1')] : [];
}

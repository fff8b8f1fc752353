import type { Attachment } from 'mailparser';

import type { PlannedAttachment } from '../delivery/delivery-plan';
import { stripControlCharacters } from './address';
import { attachmentName, isEmbeddedMessage } from './attachment-names';

/**
 * Maps mailparser's attachments (every non-body part, in MIME order) to what the Graph mailer uploads.
 *
 * Bytes are the transfer-decoded content, untouched. An embedded message (message/rfc822) is its raw bytes as
 * an .eml file, so forwarded mail keeps its own headers, parts and signatures.
 *
 * Inline: a part is sent as inline (isInline + contentId) only when the HTML body references it as
 * `cid:`; Outlook hides inline attachments, so an image that sits in multipart/related but is not referenced
 * stays a visible attachment rather than vanishing. The Content-ID is kept on every part that has one.
 */
export function planAttachments(
  attachments: readonly Attachment[],
  html: string | undefined,
): PlannedAttachment[] {
  const referenced = referencedContentIds(html ?? '');
  return attachments.map((attachment, index) => {
    // mailparser's types promise strings, but damaged headers give other values (the fuzz found an empty
    // `Content-Type:` yielding `false`), so every field is checked where it is read.
    const contentType = validContentType(attachment.contentType);
    const contentId = cleanContentId(attachment.cid);
    const planned: PlannedAttachment = {
      name: attachmentName(
        typeof attachment.filename === 'string' ? attachment.filename : undefined,
        contentType,
        index + 1,
      ),
      contentType: isEmbeddedMessage(contentType) ? 'message/rfc822' : contentType,
      isInline: contentId !== undefined && referenced.has(contentId.toLowerCase()),
      content: Buffer.isBuffer(attachment.content) ? attachment.content : Buffer.alloc(0),
    };
    if (contentId !== undefined) planned.contentId = contentId;
    return planned;
  });
}

/** RFC 2045 §5.1 type/subtype tokens; anything else (`application-x-gzip`, empty) becomes octet-stream. */
function validContentType(raw: unknown): string {
  const value = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(value) ? value : 'application/octet-stream';
}

function cleanContentId(cid: unknown): string | undefined {
  if (typeof cid !== 'string') return undefined;
  const value = stripControlCharacters(cid).trim().replace(/^<|>$/g, '').trim();
  return value.length > 0 ? value : undefined;
}

/**
 * Content-IDs the HTML references, lower-cased. RFC 2392 cid: URLs are %-encoded Content-IDs; both spellings
 * are collected because real mailers do not always encode.
 */
export function referencedContentIds(html: string): Set<string> {
  const ids = new Set<string>();
  for (const match of html.matchAll(/cid:([^"'\s)>]+)/gi)) {
    const raw = match[1] ?? '';
    ids.add(raw.toLowerCase());
    try {
      ids.add(decodeURIComponent(raw).toLowerCase());
    } catch {
      // a malformed %-sequence: the raw spelling above is all there is
    }
  }
  return ids;
}

import type { Mailbox } from './address';
import type { LineEnding } from './raw-headers';

/** RFC 2047 §2: an encoded word is at most 75 characters; 45 bytes of UTF-8 make 60 base64 characters. */
const MAX_ENCODED_WORD_BYTES = 45;

/**
 * One address header field, folded one mailbox per line (RFC 5322 §2.2.3) so no line nears the 998-character
 * limit whatever the recipient count. Ends with `eol`.
 */
export function formatAddressField(name: string, mailboxes: readonly Mailbox[], eol: LineEnding): string {
  const items = mailboxes.map((m) =>
    m.name === undefined ? m.address : `${encodePhrase(m.name, eol)} <${m.address}>`,
  );
  return `${name}: ${items.join(`,${eol} `)}${eol}`;
}

/** An RFC 5322 date-time (§3.3) in UTC, e.g. `Thu, 22 Feb 2007 18:20:31 +0000`. */
export function formatDateField(date: Date, eol: LineEnding): string {
  return `Date: ${date.toUTCString().replace(/GMT$/, '+0000')}${eol}`;
}

/**
 * A display name as a header phrase: a quoted string when it is printable ASCII (RFC 5322 §3.2.4), otherwise
 * UTF-8 base64 encoded words (RFC 2047 §4.1), split on character boundaries and folded between words.
 */
export function encodePhrase(text: string, eol: LineEnding): string {
  if (/^[\x20-\x7e]*$/.test(text)) return `"${text.replace(/["\\]/g, '\\$&')}"`;
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > MAX_ENCODED_WORD_BYTES) {
      words.push(encodedWord(chunk));
      chunk = '';
    }
    chunk += char;
  }
  if (chunk.length > 0) words.push(encodedWord(chunk));
  return words.join(`${eol} `);
}

function encodedWord(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

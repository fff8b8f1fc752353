import { open } from 'node:fs/promises';

/**
 * The Subject and From header of a spooled message, for the status page: an admin recognises "Scan from
 * MFP-3F" faster than a spool id. Only the header block is read (at most 64 KiB), never the body; values
 * are decoded from RFC 2047 encoded-words and returned as plain text (the page escapes them).
 */
export interface HeaderSummary {
  subject?: string;
  from?: string;
}

const MAX_HEADER_BYTES = 64 * 1024;
const MAX_VALUE_CHARS = 300;

export async function readHeaderSummary(path: string): Promise<HeaderSummary> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_HEADER_BYTES, 0);
    return headerSummary(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export function headerSummary(bytes: Buffer): HeaderSummary {
  // Headers are 7-bit or UTF-8 (RFC 6532); latin1 keeps every byte so the end of the block is found exactly.
  const text = bytes.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const out: HeaderSummary = {};
  for (const line of block.split(/\r?\n/)) {
    const m = /^(subject|from)[ \t]*:[ \t]*(.*)$/i.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const key = m[1].toLowerCase() as keyof HeaderSummary;
    if (out[key] !== undefined) continue;
    out[key] = clip(decodeWords(Buffer.from(m[2], 'latin1').toString('utf8')).trim());
  }
  return out;
}

/** Decodes RFC 2047 encoded-words (`=?charset?B|Q?text?=`); adjacent words join without the space between. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(
      /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g,
      (whole, charset: string, encoding: string, data: string) => {
        const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : qDecode(data);
        try {
          // RFC 2231 language suffix (utf-8*en) is not part of the charset name.
          return new TextDecoder(charset.split('*')[0], { fatal: false }).decode(bytes);
        } catch {
          return whole; // unknown charset: show it as it came
        }
      },
    );
}

function qDecode(data: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as string;
    if (c === '_') out.push(0x20);
    else if (c === '=' && /^[0-9a-fA-F]{2}$/.test(data.slice(i + 1, i + 3))) {
      out.push(parseInt(data.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

function clip(s: string): string {
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

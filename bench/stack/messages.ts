import { randomBytes } from 'node:crypto';

import { scanMessage } from '../function/scan-message';

/**
 * The messages of the latency benchmark. A probe is a scan as a copier sends it (bench/function/scan-message.ts:
 * a text part and a PDF-like base64 attachment) with its own From (its sender mailbox) and a subject that
 * names it, so its arrival at the Graph sandbox is found by subject. Background messages are plain text.
 */

const FROM_LINE = /^From: .*$/m;
const SUBJECT_LINE = /^Subject: .*$/m;
const MESSAGE_ID_LINE = /^Message-ID: .*$/m;

export interface MessageFactory {
  (o: { from: string; subject: string }): Buffer;
}

/** Scans of about `bytes` bytes of MIME; the PDF is made once (random bytes), headers per message. */
export function scanFactory(bytes: number): MessageFactory {
  const template = scanMessage(bytes).mime.toString('latin1');
  return ({ from, subject }) =>
    Buffer.from(
      template
        .replace(FROM_LINE, `From: "Stack bench scanner" <${from}>`)
        .replace(SUBJECT_LINE, `Subject: ${subject}`)
        .replace(MESSAGE_ID_LINE, `Message-ID: <${randomBytes(8).toString('hex')}@stack-bench.local>`),
      'latin1',
    );
}

/** Plain-text messages of about `bytes` bytes (lines of 76 characters). */
export function textFactory(bytes: number): MessageFactory {
  const line = 'X'.repeat(76);
  const body = Array.from({ length: Math.max(1, Math.round(bytes / 78)) }, () => line).join('\r\n');
  return ({ from, subject }) =>
    Buffer.from(
      [
        `From: <${from}>`,
        'To: <user@example.com>',
        `Subject: ${subject}`,
        `Message-ID: <${randomBytes(8).toString('hex')}@stack-bench.local>`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        body,
        '',
      ].join('\r\n'),
      'latin1',
    );
}

/** `prefix-001@example.com` … : `count` sender mailboxes of one kind. */
export function mailboxes(prefix: string, count: number): string[] {
  const width = String(count).length;
  return Array.from(
    { length: count },
    (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}@example.com`,
  );
}

import type { Envelope } from '../../../core/envelope';
import type { SenderPolicy } from '../../../functions/mime/sender-policy';

/** A message from header and body lines, CRLF-terminated as SMTP delivers it. */
export function eml(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

export function envelope(rcptTo: string[], mailFrom = 'scanner@site.example'): Envelope {
  return {
    messageId: 'msg-test-0001',
    siteId: 'hq',
    mailFrom,
    rcptTo,
    clientAddress: '192.0.2.10',
    helo: 'copier.site.example',
    receivedAt: '2026-01-15T10:00:00Z',
  };
}

/** The site policy most tests use: the site's own domain may send, the relay mailbox stands in for others. */
export const SITE_POLICY: SenderPolicy = {
  allowedSenders: ['*@site.example'],
  defaultSender: 'relay@site.example',
};

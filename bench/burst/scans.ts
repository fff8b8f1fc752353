import { scanMessage } from '../function/scan-message';

/**
 * The burst's scans: the function benchmark's scan (bench/function/scan-message.ts: a text part and a
 * PDF-like attachment of random bytes) with its own Subject and Message-ID per scan, so each one can be
 * found — and counted — in the Graph sandbox.
 */
export const COPIER_SENDER = 'scanner@contoso.com';
export const RECIPIENT = 'alice@fabrikam.com';

export interface Scan {
  index: number;
  subject: string;
  messageId: string;
  mime: Buffer;
}

export function burstScans(count: number, totalBytes: number, runId: string): Scan[] {
  return Array.from({ length: count }, (_, index) => {
    const n = String(index + 1).padStart(3, '0');
    const subject = `Scan ${n} of burst ${runId}`;
    const messageId = `<burst-${runId}-${n}@mfp-3f.contoso.local>`;
    const { mime } = scanMessage(totalBytes);
    const headEnd = mime.indexOf('\r\n\r\n');
    const head = mime
      .subarray(0, headEnd)
      .toString('latin1')
      .replace(/^Subject: .*$/m, `Subject: ${subject}`)
      .replace(/^Message-ID: .*$/m, `Message-ID: ${messageId}`)
      .replace(/^Date: .*$/m, `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`);
    return {
      index,
      subject,
      messageId,
      mime: Buffer.concat([Buffer.from(head, 'latin1'), mime.subarray(headEnd)]),
    };
  });
}

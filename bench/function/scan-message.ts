import { createHash, randomBytes } from 'node:crypto';

/**
 * A message as a scanner sends it: a short text part and one PDF attachment, base64 in 76-character lines
 * with CRLF (what copiers and nodemailer write). The PDF is a PDF header and trailer around random bytes:
 * scans are compressed images, which look random to every layer (base64 cannot shrink them, nothing can
 * dedupe them), so random bytes are the honest worst case for memory and bandwidth.
 */
export interface ScanMessage {
  mime: Buffer;
  pdfBytes: number;
  pdfSha256: string;
}

const BOUNDARY = '----=_Part_scan_4f2a91c07d';

function head(pdfName: string): string {
  return [
    'From: "MFP-3F Scanner" <scanner@contoso.com>',
    'To: alice@fabrikam.com',
    'Subject: Scanned document from MFP-3F',
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    'Message-ID: <scan-20260302100000@mfp-3f.contoso.local>',
    'MIME-Version: 1.0',
    'X-Mailer: MFP-3F Scan to E-mail',
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
    '',
    `--${BOUNDARY}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    'Please find attached the scanned document.',
    'Device: MFP-3F (3rd floor). Resolution: 300 dpi.',
    `--${BOUNDARY}`,
    `Content-Type: application/pdf; name="${pdfName}"`,
    `Content-Disposition: attachment; filename="${pdfName}"`,
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
}

const TAIL = `\r\n--${BOUNDARY}--\r\n`;

/** Bytes of base64 text, in 76-character CRLF lines, for n bytes of content. */
function encodedLength(n: number): number {
  const chars = 4 * Math.ceil(n / 3);
  return chars + 2 * Math.max(0, Math.ceil(chars / 76) - 1);
}

/** A scan message of (just under) `totalBytes` bytes of MIME. */
export function scanMessage(totalBytes: number): ScanMessage {
  const name = 'scan_20260302_100000.pdf';
  const overhead = Buffer.byteLength(head(name)) + TAIL.length;
  let pdfBytes = Math.floor(((totalBytes - overhead) * 57) / 78);
  while (overhead + encodedLength(pdfBytes + 1) <= totalBytes) pdfBytes += 1;
  while (pdfBytes > 0 && overhead + encodedLength(pdfBytes) > totalBytes) pdfBytes -= 1;
  const prefix = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const suffix = Buffer.from('\n%%EOF\n', 'latin1');
  const pdf = Buffer.concat([
    prefix,
    randomBytes(Math.max(0, pdfBytes - prefix.length - suffix.length)),
    suffix,
  ]);
  const base64 = pdf.toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');
  const mime = Buffer.concat([Buffer.from(head(name)), Buffer.from(base64, 'latin1'), Buffer.from(TAIL)]);
  return { mime, pdfBytes: pdf.length, pdfSha256: createHash('sha256').update(pdf).digest('hex') };
}

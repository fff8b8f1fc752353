import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { scanMessage } from './scan-message';

export interface ScanFile {
  path: string;
  mimeBytes: number;
  pdfBytes: number;
  pdfSha256: string;
}

/** Writes a scan message of about `totalBytes` to `dir` (made by the parent, so the child's heap never held it). */
export async function writeScanFile(
  dir: string,
  totalBytes: number,
  name = `scan-${totalBytes}.eml`,
): Promise<ScanFile> {
  const message = scanMessage(totalBytes);
  const path = join(dir, name);
  await writeFile(path, message.mime);
  return { path, mimeBytes: message.mime.length, pdfBytes: message.pdfBytes, pdfSha256: message.pdfSha256 };
}

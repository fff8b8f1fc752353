import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import selfsigned from 'selfsigned';

const DAY_MS = 86_400_000;

/**
 * A self-signed loopback certificate with chosen dates (core/self-signed-cert.ts always starts "now"), to
 * give a listener an expired or nearly expired certificate. Returns the PEM file paths.
 */
export async function datedCertFiles(opts: {
  notBeforeDaysAgo: number;
  notAfterInDays: number;
}): Promise<{ certFile: string; keyFile: string }> {
  const now = Date.now();
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'doctor-dated-cert' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - opts.notBeforeDaysAgo * DAY_MS),
    notAfterDate: new Date(now + opts.notAfterInDays * DAY_MS),
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2 as const, value: 'localhost' },
          { type: 7 as const, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'doctor-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  return { certFile, keyFile };
}

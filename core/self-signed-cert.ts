import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

/**
 * A self-signed certificate for loopback and LAN use: the edge listener's TLS when no certificate is
 * configured, the sandbox Graph endpoint of `npm start`, and the test fakes. It names localhost, 127.0.0.1
 * and ::1 plus any extra host names, so Node verifies it once it is trusted (NODE_EXTRA_CA_CERTS).
 */
export async function generateSelfSignedCert(
  opts: { commonName?: string; altNames?: string[]; days?: number } = {},
): Promise<CertPair> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (opts.days ?? 825) * 86_400_000);
  const names = ['localhost', ...(opts.altNames ?? [])];
  // Loaded only when a certificate is made (once per site): its X.509 stack is ~600 KB of code that a
  // listener with its certificate on disk never needs in memory (docs/design/edge-memory.md).
  const { default: selfsigned } = await import('selfsigned');
  const pems = await selfsigned.generate(
    [{ name: 'commonName', value: opts.commonName ?? 'smtp-graph-bridge' }],
    {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: notBefore,
      notAfterDate: notAfter,
      extensions: [
        // A self-signed leaf that is also its own CA, so one file serves as both trust anchor and server cert.
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...names.map((value) => ({ type: 2 as const, value })),
            { type: 7 as const, ip: '127.0.0.1' },
            { type: 7 as const, ip: '::1' },
          ],
        },
      ],
    },
  );
  return { cert: pems.cert, key: pems.private };
}

/**
 * Returns the certificate in `dir` (cert.pem, key.pem), making a new one when it is missing or expires within
 * 30 days. Used by `npm start` and the tests so a restart keeps trusting the same certificate.
 */
export async function ensureSelfSignedCert(
  dir: string,
  opts?: { commonName?: string; altNames?: string[] },
): Promise<CertPair & { certPath: string; keyPath: string }> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const validTo = new Date(new X509Certificate(cert).validTo).getTime();
    if (validTo - Date.now() > 30 * 86_400_000) return { cert, key, certPath, keyPath };
  } catch {
    // missing or unreadable: make a new one
  }
  const pair = await generateSelfSignedCert(opts);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pair.key, { mode: 0o600 });
  writeFileSync(certPath, pair.cert);
  return { ...pair, certPath, keyPath };
}

import type { SecureContextOptions } from 'node:tls';

/**
 * TLS for STARTTLS and implicit TLS. The default is TLS 1.2+ with OpenSSL's default ciphers. Old copiers
 * and scanners that only speak TLS 1.0/1.1 (docs/design/smtp-cases.md Q5) need BRIDGE_TLS_LEGACY, the one switch: it
 * allows those versions and drops OpenSSL 3 to security level 0, without which TLS 1.0 fails even when
 * allowed (SHA-1 signatures, small keys). A failed handshake is logged as TLS_HANDSHAKE_FAILED.
 */
export function tlsServerOptions(
  material: { key: string; cert: string },
  legacy: boolean,
): SecureContextOptions & { honorCipherOrder: boolean } {
  if (legacy)
    return {
      key: material.key,
      cert: material.cert,
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
      honorCipherOrder: true,
    };
  return { key: material.key, cert: material.cert, minVersion: 'TLSv1.2', honorCipherOrder: true };
}

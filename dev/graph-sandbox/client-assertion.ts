import { constants, createPublicKey, verify, X509Certificate } from 'node:crypto';

/**
 * Client assertions at the token endpoint: the JWT MSAL signs with the app's certificate (iss = sub = client
 * id), or a managed-identity token presented as federated credential (workload identity federation: iss =
 * the identity's issuer, sub = its principal id, aud = api://AzureADTokenExchange).
 */

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown;
    if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') return undefined;
    return {
      header: header as Record<string, unknown>,
      claims: claims as Record<string, unknown>,
      signingInput: `${h}.${p}`,
      signature: Buffer.from(s, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** RS256 or PS256 signature of a certificate-signed assertion, checked against the registered certificate. */
export function assertionSignedBy(jwt: DecodedJwt, certificatePem: string): boolean {
  const key = createPublicKey(
    new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const data = Buffer.from(jwt.signingInput);
  switch (jwt.header.alg) {
    case 'RS256':
      return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, jwt.signature);
    case 'PS256':
      return verify(
        'sha256',
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        jwt.signature,
      );
    default:
      return false;
  }
}

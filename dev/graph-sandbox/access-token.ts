import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * JWT-shaped access tokens for the sandbox: the same claims Entra puts in an app-only Graph token (roles, tid,
 * appid, aud, exp), signed with HS256 under a key that lives only in this sandbox instance. A token from
 * another instance, a tampered one or an expired one is refused the way Graph refuses it (401
 * InvalidAuthenticationToken).
 */

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  roles: string[];
  iat: number;
  nbf: number;
  exp: number;
  oid?: string;
  idtyp?: string;
  ver?: string;
  [claim: string]: unknown;
}

export type TokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; message: string };

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class TokenSigner {
  readonly #key = randomBytes(32);

  sign(claims: AccessTokenClaims): string {
    const unsigned = `${b64url({ typ: 'JWT', alg: 'HS256', kid: 'graph-sandbox' })}.${b64url(claims)}`;
    return `${unsigned}.${createHmac('sha256', this.#key).update(unsigned).digest('base64url')}`;
  }

  verify(token: string, nowSec: number, isAudience: (aud: string) => boolean): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3)
      return { ok: false, message: 'IDX14100: JWT is not well formed, there are no dots (.).' };
    const [header, payload, signature] = parts as [string, string, string];
    const expected = createHmac('sha256', this.#key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, message: 'Invalid signature.' };
    let claims: AccessTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AccessTokenClaims;
    } catch {
      return { ok: false, message: 'Access token validation failure. Invalid audience.' };
    }
    if (typeof claims.exp !== 'number' || claims.exp <= nowSec)
      return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
    if (typeof claims.nbf === 'number' && claims.nbf > nowSec + 300)
      return { ok: false, message: 'Lifetime validation failed, the token is not yet valid.' };
    if (!isAudience(String(claims.aud)))
      return { ok: false, message: 'Access token validation failure. Invalid audience.' };
    return { ok: true, claims };
  }
}

/** Audiences the sandbox accepts: Graph's own, and the sandbox's origin (the mailer asks for {endpoint}/.default). */
export function isGraphAudience(aud: string): boolean {
  const a = aud.replace(/\/+$/, '').toLowerCase();
  if (a === 'https://graph.microsoft.com' || a === '00000003-0000-0000-c000-000000000000') return true;
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(a).hostname);
  } catch {
    return false;
  }
}

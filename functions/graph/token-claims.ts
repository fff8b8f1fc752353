/**
 * Reads the claims of an Entra access token (a JWT) for the health check and `doctor`: which application
 * permissions (roles) the token carries, for which tenant and app. The signature is not checked — Graph
 * does that; we only report what we were given. Never log the token itself.
 */
export interface TokenClaims {
  roles: string[];
  tenantId?: string;
  appId?: string;
  /** oid: in an app-only token, the object id of the app's service principal in the token's tenant. */
  objectId?: string;
}

export function readTokenClaims(token: string): TokenClaims {
  const payload = token.split('.')[1];
  if (!payload) return { roles: [] };
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { roles: [] };
  }
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const out: TokenClaims = { roles };
  if (typeof claims.tid === 'string') out.tenantId = claims.tid;
  // v1 tokens say appid, v2 tokens azp.
  const appId =
    typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : undefined;
  if (appId) out.appId = appId;
  if (typeof claims.oid === 'string') out.objectId = claims.oid;
  return out;
}

import type { TokenFacts } from '../../core/diagnostics';
import { bridgeError } from '../../core/errors';
import type { GraphTransport } from './graph-transport';

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

/**
 * Gets a token for the transport's scope and reports what it says (core/diagnostics.ts TokenFacts). Throws
 * GRAPH_TOKEN_FAILED: the transport's credential classifies Entra's refusals.
 */
export async function readToken(
  transport: Pick<GraphTransport, 'credential' | 'scope'>,
): Promise<TokenFacts> {
  const token = await transport.credential.getToken(transport.scope);
  if (!token) throw bridgeError('GRAPH_TOKEN_FAILED', { detail: 'the credential returned no token' });
  const claims = readTokenClaims(token.token);
  return {
    roles: [...claims.roles].sort(),
    expiresOn: new Date(token.expiresOnTimestamp).toISOString(),
    ...(claims.appId ? { appId: claims.appId } : {}),
    ...(claims.tenantId ? { tenantId: claims.tenantId } : {}),
    ...(claims.objectId ? { objectId: claims.objectId } : {}),
  };
}

import { createHash, randomUUID } from 'node:crypto';

import type { TokenSigner } from './access-token';
import { assertionSignedBy, decodeJwt } from './client-assertion';
import type { SandboxClient, SandboxOptions, TokenRequestLog } from './options';
import { entraError, jsonReply, type Reply } from './reply';
import { missingServicePrincipal, type ConsentModel } from './consent';
import type { RequestContext } from './request-context';

/**
 * The Entra ID side: OpenID metadata and the client-credentials token endpoint, as MSAL (via @azure/identity)
 * uses them with `disableInstanceDiscovery`. MSAL requires all four of authorization_endpoint, token_endpoint,
 * issuer and jwks_uri in the metadata (docs/design/toolchain.md §3).
 */

export const DEFAULT_ROLES = ['Mail.Send', 'Mail.ReadWrite', 'User.Read.All'];
const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

export function openIdConfiguration(ctx: RequestContext, tenant: string): Reply {
  const base = `${ctx.origin}/${tenant}`;
  return jsonReply(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'graph-sandbox.local',
    cloud_graph_host_name: 'graph-sandbox.local',
    msgraph_host: new URL(ctx.origin).host,
  });
}

export function jwks(): Reply {
  // Sandbox tokens are HS256 under a private key; nothing to publish.
  return jsonReply(200, { keys: [] });
}

/** A stable object id for an app in a tenant (the service principal's oid). */
function objectId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface TokenEndpointDeps {
  options: SandboxOptions;
  /** Which tenants hold the app's service principal (consent.ts). */
  consent?: ConsentModel;
  signer: TokenSigner;
  log: (entry: TokenRequestLog) => void;
}

type ClientCheck = { ok: true } | { ok: false; reply: Reply };

function checkClient(
  ctx: RequestContext,
  deps: TokenEndpointDeps,
  form: URLSearchParams,
  clientId: string,
  tokenEndpoint: string,
): ClientCheck {
  const clients = deps.options.clients;
  // Every refusal of a client credential is an `invalid_client` error with its AADSTS code, as Entra answers.
  const refuse = (status: number, aadsts: number, description: string): ClientCheck => ({
    ok: false,
    reply: entraError(ctx, status, 'invalid_client', aadsts, description),
  });
  const assertion = form.get('client_assertion');
  if (assertion !== null) {
    const jwt = decodeJwt(assertion);
    if (!jwt) return refuse(400, 50027, 'JWT token is invalid or malformed.');
    const exp = typeof jwt.claims.exp === 'number' ? jwt.claims.exp : 0;
    if (exp * 1000 < Date.now() - 300_000)
      return refuse(401, 700024, 'Client assertion is not within its valid time range.');
    if (!clients) return { ok: true };
    const client = clients.find((c) => c.clientId === clientId) as SandboxClient;
    const selfIssued = jwt.claims.iss === clientId && jwt.claims.sub === clientId;
    if (selfIssued) {
      // MSAL puts the token endpoint it used in aud; the host may be either loopback name, the path must match.
      if (!String(jwt.claims.aud).split('?')[0]?.endsWith(new URL(tokenEndpoint).pathname))
        return refuse(401, 700021, 'Client assertion audience claim does not match Realm issuer.');
      if (!client.certificatePem || !assertionSignedBy(jwt, client.certificatePem)) {
        return refuse(401, 700027, 'Client assertion failed signature validation.');
      }
      return { ok: true };
    }
    const federated = client.federatedSubjects ?? [];
    if (jwt.claims.aud !== TOKEN_EXCHANGE_AUDIENCE || !federated.includes(String(jwt.claims.sub))) {
      return refuse(
        401,
        700213,
        `No matching federated identity record found for presented assertion subject '${String(jwt.claims.sub)}'.`,
      );
    }
    return { ok: true };
  }
  const secret = form.get('client_secret');
  if (secret === null)
    return refuse(
      401,
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  if (!clients) return { ok: true };
  const client = clients.find((c) => c.clientId === clientId) as SandboxClient;
  if (client.secret === undefined || client.secret !== secret) {
    return refuse(
      401,
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    );
  }
  return { ok: true };
}

export function tokenEndpoint(ctx: RequestContext, deps: TokenEndpointDeps, tenant: string): Reply {
  const form = new URLSearchParams(ctx.body.toString('utf8'));
  const clientId = form.get('client_id') ?? '';
  const scope = form.get('scope') ?? '';
  const assertion = form.get('client_assertion');
  const jwt = assertion !== null ? decodeJwt(assertion) : undefined;
  const entry: TokenRequestLog = {
    at: new Date().toISOString(),
    tenantId: tenant,
    clientId,
    scope,
    auth: assertion !== null ? 'client_assertion' : form.has('client_secret') ? 'client_secret' : 'none',
    ...(jwt ? { assertion: { header: jwt.header, claims: jwt.claims } } : {}),
    status: 200,
  };
  const reply = issue(ctx, deps, tenant, form, clientId, scope);
  entry.status = reply.status;
  deps.log(entry);
  return reply;
}

function issue(
  ctx: RequestContext,
  deps: TokenEndpointDeps,
  tenant: string,
  form: URLSearchParams,
  clientId: string,
  scope: string,
): Reply {
  const { options } = deps;
  if (options.tenants && !options.tenants.includes(tenant)) {
    return entraError(
      ctx,
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  }
  if (form.get('grant_type') !== 'client_credentials')
    return entraError(
      ctx,
      400,
      'unsupported_grant_type',
      70003,
      'The app requested an unsupported grant type.',
    );
  if (!clientId)
    return entraError(
      ctx,
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'.",
    );
  if (!scope.endsWith('/.default'))
    return entraError(
      ctx,
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  if (options.clients && !options.clients.some((c) => c.clientId === clientId)) {
    return entraError(
      ctx,
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
    );
  }
  const check = checkClient(ctx, deps, form, clientId, `${ctx.origin}/${tenant}/oauth2/v2.0/token`);
  if (!check.ok) return check.reply;
  if (deps.consent && !deps.consent.hasServicePrincipal(tenant))
    return missingServicePrincipal(ctx, clientId, tenant);
  const lifetimeSec = options.tokenLifetimeSec ?? 3599;
  const nowSec = Math.floor(Date.now() / 1000);
  const accessToken = deps.signer.sign({
    aud: scope.slice(0, -'/.default'.length),
    iss: `https://sts.windows.net/${tenant}/`,
    iat: nowSec,
    nbf: nowSec,
    exp: nowSec + lifetimeSec,
    appid: clientId,
    appidacr: form.has('client_assertion') ? '2' : '1',
    idtyp: 'app',
    oid: objectId(tenant, clientId),
    sub: objectId(tenant, clientId),
    roles: options.tenantRoles?.[tenant] ?? options.roles ?? DEFAULT_ROLES,
    tid: tenant,
    uti: randomUUID(),
    ver: '1.0',
  });
  return jsonReply(200, {
    token_type: 'Bearer',
    expires_in: lifetimeSec,
    ext_expires_in: lifetimeSec,
    access_token: accessToken,
  });
}

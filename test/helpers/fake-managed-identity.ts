import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The App Service / Functions managed-identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER, api-version
 * 2019-08-01), as @azure/identity's ManagedIdentityCredential calls it: GET with the X-IDENTITY-HEADER secret,
 * `resource` and `client_id` in the query. Plain http, like the real one (docs/design/platform-facts.md §B6). It hands out a
 * JWT-shaped token whose claims are what Entra checks for a federated credential: iss, sub (the identity's
 * principal id) and aud.
 */
export interface FakeManagedIdentity {
  /** Value for IDENTITY_ENDPOINT. */
  endpoint: string;
  /** Value for IDENTITY_HEADER. */
  header: string;
  principalId: string;
  requests: Array<{ resource: string; clientId: string | null; headerOk: boolean }>;
  close(): Promise<void>;
}

export async function startFakeManagedIdentity(opts: {
  clientId: string;
  principalId: string;
  tenantId: string;
}): Promise<FakeManagedIdentity> {
  const header = 'fake-identity-header-secret';
  const requests: FakeManagedIdentity['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const resource = url.searchParams.get('resource') ?? '';
    const clientId = url.searchParams.get('client_id');
    const headerOk = req.headers['x-identity-header'] === header;
    requests.push({ resource, clientId, headerOk });
    if (!headerOk || url.searchParams.get('api-version') !== '2019-08-01') {
      res
        .writeHead(400, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ statusCode: 400, message: 'Required metadata header not specified' }));
      return;
    }
    if (clientId !== opts.clientId) {
      res
        .writeHead(400, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ statusCode: 400, message: 'No managed identity found for the client_id' }));
      return;
    }
    const nowSec = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = {
      aud: resource,
      iss: `https://login.microsoftonline.com/${opts.tenantId}/v2.0`,
      sub: opts.principalId,
      oid: opts.principalId,
      tid: opts.tenantId,
      iat: nowSec,
      nbf: nowSec,
      exp: nowSec + 3600,
    };
    const token = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.${Buffer.from('fake-signature').toString('base64url')}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        access_token: token,
        expires_on: String(nowSec + 3600),
        resource,
        token_type: 'Bearer',
        client_id: clientId,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/msi/token`,
    header,
    principalId: opts.principalId,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

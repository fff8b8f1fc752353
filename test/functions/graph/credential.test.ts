import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { BridgeError } from '../../../core/errors';
import { silentLogger } from '../../../core/log';
import { generateSelfSignedCert } from '../../../core/self-signed-cert';
import {
  authorityOptions,
  createCredentialProvider,
  credentialKind,
} from '../../../functions/graph/credential';
import { createGraphMailer } from '../../../functions/graph/mailer';
import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';
import { startFakeManagedIdentity, type FakeManagedIdentity } from '../../helpers/fake-managed-identity';
import { jsonPlan } from './plans';

const HOME = '11111111-1111-1111-1111-111111111111';
const CUSTOMER = '33333333-3333-3333-3333-333333333333';
const APP = '22222222-2222-2222-2222-222222222222';
const CERT_APP = '44444444-4444-4444-4444-444444444444';
const FIC_APP = '55555555-5555-5555-5555-555555555555';
const MI_CLIENT = '66666666-6666-6666-6666-666666666666';
const MI_PRINCIPAL = '77777777-7777-7777-7777-777777777777';

let fake: GraphSandbox;
let cert: { cert: string; key: string };
let otherCert: { cert: string; key: string };
const graphScope = () => `${fake.url}/.default`;

beforeAll(async () => {
  [cert, otherCert] = await Promise.all([
    generateSelfSignedCert({ commonName: 'bridge app' }),
    generateSelfSignedCert({ commonName: 'someone else' }),
  ]);
  fake = await startFakeGraph({
    tenants: [HOME, CUSTOMER],
    tenantRoles: { [CUSTOMER]: ['Mail.Send'] },
    clients: [
      { clientId: APP, secret: 's3cret' },
      { clientId: CERT_APP, certificatePem: cert.cert },
      { clientId: FIC_APP, federatedSubjects: [MI_PRINCIPAL] },
    ],
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.clear());

describe('credential selection', () => {
  it('picks secret, then certificate, then workload identity, and nothing without tenant and client', () => {
    const base = { tenantId: HOME, clientId: APP };
    expect(
      credentialKind({
        ...base,
        clientSecret: 'x',
        clientCertificatePath: '/c.pem',
        managedIdentityClientId: MI_CLIENT,
      }),
    ).toBe('client-secret');
    expect(
      credentialKind({ ...base, clientCertificatePath: '/c.pem', managedIdentityClientId: MI_CLIENT }),
    ).toBe('client-certificate');
    expect(credentialKind({ ...base, managedIdentityClientId: MI_CLIENT })).toBe('workload-identity');
    expect(credentialKind(base)).toBeUndefined();
    expect(credentialKind({ clientId: APP, clientSecret: 'x' })).toBeUndefined();
    expect(() => createCredentialProvider(base)).toThrow(BridgeError);
  });

  it("disables instance discovery only for authorities that are not Microsoft's clouds, and refuses http", () => {
    expect(authorityOptions('https://login.microsoftonline.com')).toEqual({
      authorityHost: 'https://login.microsoftonline.com',
    });
    expect(authorityOptions('https://login.microsoftonline.us')).toEqual({
      authorityHost: 'https://login.microsoftonline.us',
    });
    expect(authorityOptions('https://login.chinacloudapi.cn/')).toEqual({
      authorityHost: 'https://login.chinacloudapi.cn/',
    });
    expect(authorityOptions('https://127.0.0.1:8443')).toEqual({
      authorityHost: 'https://127.0.0.1:8443',
      disableInstanceDiscovery: true,
    });
    expect(authorityOptions(undefined)).toEqual({});
    expect(() => authorityOptions('http://127.0.0.1:8443')).toThrow(/https/);
  });
});

describe('client secret', () => {
  it('keeps one credential per tenant, and each tenant gets its own token with its own consent', async () => {
    const provider = createCredentialProvider({
      tenantId: HOME,
      clientId: APP,
      clientSecret: 's3cret',
      authorityHost: fake.authorityHost,
    });
    expect(provider.kind).toBe('client-secret');
    expect(provider.credentialFor()).toBe(provider.credentialFor(HOME));
    expect(provider.credentialFor(CUSTOMER)).not.toBe(provider.credentialFor(HOME));

    const home = createGraphMailer({
      graphEndpoint: fake.url,
      credential: provider.credentialFor(),
      logger: silentLogger,
    });
    const customer = createGraphMailer({
      graphEndpoint: fake.url,
      credential: provider.credentialFor(CUSTOMER),
      logger: silentLogger,
    });
    expect(await home.tokenInfo()).toMatchObject({
      tenantId: HOME,
      roles: ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'],
    });
    expect(await customer.tokenInfo()).toMatchObject({ tenantId: CUSTOMER, roles: ['Mail.Send'] });
    await home.tokenInfo();
    await customer.tokenInfo();
    expect(fake.tokenRequests().map((t) => t.tenantId)).toEqual([HOME, CUSTOMER]);
  });
});

describe('client certificate', () => {
  it('signs a client assertion that Entra verifies against the registered certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-cert-'));
    const certificatePath = join(dir, 'app.pem');
    await writeFile(certificatePath, `${cert.key}\n${cert.cert}`, { mode: 0o600 });
    const provider = createCredentialProvider({
      tenantId: HOME,
      clientId: CERT_APP,
      clientCertificatePath: certificatePath,
      authorityHost: fake.authorityHost,
    });
    expect(provider.kind).toBe('client-certificate');
    const token = await provider.credentialFor().getToken(graphScope());
    expect(token?.token).toMatch(/^eyJ/);
    const [request] = fake.tokenRequests();
    expect(request).toMatchObject({ auth: 'client_assertion', clientId: CERT_APP, status: 200 });
    expect(request?.assertion?.claims).toMatchObject({ iss: CERT_APP, sub: CERT_APP });
    expect(String(request?.assertion?.header.alg)).toMatch(/^(PS|RS)256$/);
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused when the key does not belong to the registered certificate', async () => {
    const provider = createCredentialProvider({
      tenantId: HOME,
      clientId: CERT_APP,
      clientCertificatePem: `${otherCert.key}\n${otherCert.cert}`,
      authorityHost: fake.authorityHost,
    });
    const mailer = createGraphMailer({
      graphEndpoint: fake.url,
      credential: provider.credentialFor(),
      logger: silentLogger,
    });
    const e = await mailer.tokenInfo().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BridgeError);
    expect((e as BridgeError).code).toBe('GRAPH_TOKEN_FAILED');
    expect((e as BridgeError).detail).toMatch(/AADSTS700027/);
  });
});

describe('secretless: managed identity as federated credential', () => {
  let mi: FakeManagedIdentity;
  beforeAll(async () => {
    mi = await startFakeManagedIdentity({ clientId: MI_CLIENT, principalId: MI_PRINCIPAL, tenantId: HOME });
  });
  afterAll(async () => {
    await mi.close();
  });
  beforeEach(() => {
    // ManagedIdentityCredential finds the App Service identity endpoint through these two variables.
    vi.stubEnv('IDENTITY_ENDPOINT', mi.endpoint);
    vi.stubEnv('IDENTITY_HEADER', mi.header);
    mi.requests.length = 0;
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('exchanges the managed identity token for app tokens in two tenants and sends mail with them', async () => {
    const provider = createCredentialProvider({
      tenantId: HOME,
      clientId: FIC_APP,
      managedIdentityClientId: MI_CLIENT,
      authorityHost: fake.authorityHost,
    });
    expect(provider.kind).toBe('workload-identity');

    const home = createGraphMailer({
      graphEndpoint: fake.url,
      credential: provider.credentialFor(),
      logger: silentLogger,
    });
    await home.send(jsonPlan({ mailbox: 'scanner@contoso.example' }));
    const customer = createGraphMailer({
      graphEndpoint: fake.url,
      credential: provider.credentialFor(CUSTOMER),
      logger: silentLogger,
    });
    expect((await customer.tokenInfo()).tenantId).toBe(CUSTOMER);

    // One managed-identity token serves both tenants (cached by the shared ManagedIdentityCredential).
    expect(mi.requests).toEqual([
      { resource: 'api://AzureADTokenExchange', clientId: MI_CLIENT, headerOk: true },
    ]);
    const exchanges = fake.tokenRequests();
    expect(exchanges.map((t) => [t.tenantId, t.clientId, t.auth, t.status])).toEqual([
      [HOME, FIC_APP, 'client_assertion', 200],
      [CUSTOMER, FIC_APP, 'client_assertion', 200],
    ]);
    expect(exchanges[0]?.assertion?.claims).toMatchObject({
      sub: MI_PRINCIPAL,
      aud: 'api://AzureADTokenExchange',
    });
    expect(fake.messages()).toHaveLength(1);
    expect(fake.messages()[0]?.appId).toBe(FIC_APP);
  });

  it('fails with GRAPH_TOKEN_FAILED when the app trusts another identity', async () => {
    const provider = createCredentialProvider({
      tenantId: HOME,
      clientId: APP,
      managedIdentityClientId: MI_CLIENT,
      authorityHost: fake.authorityHost,
    });
    const mailer = createGraphMailer({
      graphEndpoint: fake.url,
      credential: provider.credentialFor(),
      logger: silentLogger,
    });
    const e = (await mailer.tokenInfo().catch((err: unknown) => err)) as BridgeError;
    expect(e.code).toBe('GRAPH_TOKEN_FAILED');
    expect(e.detail).toMatch(/AADSTS700213/);
  });
});

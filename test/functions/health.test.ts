import { HttpRequest } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';

import { makeHealthHandler } from '../../functions/http/health-handler';
import { createFunctionServices } from '../../functions/function-services';
import { loadFunctionConfig } from '../../functions/config';
import {
  callDeepHealth,
  invocation,
  OTHER_SECRET,
  OTHER_SITE,
  SITE,
  SITE_SECRET,
  startKit,
  type Kit,
} from './function-test-kit';

const request = (path: string) => new HttpRequest({ method: 'GET', url: `https://bridge.example${path}` });
let kit: Kit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});
const deep = (k: Kit) => callDeepHealth(() => k.services);

describe('health', () => {
  it('answers liveness without touching configuration or storage', async () => {
    const res = await makeHealthHandler()(request('/api/health'), invocation('health').context);
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({ status: 'alive', deep: '/api/health/deep' });
  });

  it("proves a Graph token can be obtained and lists the roles it carries, for the calling site's tenant", async () => {
    kit = await startKit('health', {
      settings: { BRIDGE_SITES: JSON.stringify([{ id: OTHER_SITE, tenantId: 'tenant-branch' }]) },
      sandbox: { roles: ['Mail.Send', 'Mail.ReadWrite'], tenantRoles: { 'tenant-branch': ['Mail.Send'] } },
    });
    const { status, body } = await deep(kit);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', site: SITE, reused: false });
    expect(body.storage.ok).toBe(true);
    expect(body.graph.map((g) => g.tenantId)).toEqual(['tenant-home']);
    const home = body.graph[0];
    expect(home).toMatchObject({ ok: true, roles: ['Mail.ReadWrite', 'Mail.Send'] });
    expect(home?.missingRoles).toBeUndefined();
    expect(Date.parse(home!.expiresOn!)).toBeGreaterThan(Date.now());

    const branch = await callDeepHealth(() => kit!.services, { site: OTHER_SITE, secret: OTHER_SECRET });
    expect(branch.body.site).toBe(OTHER_SITE);
    expect(branch.body.graph).toEqual([
      expect.objectContaining({ tenantId: 'tenant-branch', ok: true, missingRoles: ['Mail.ReadWrite'] }),
    ]);
  });

  it('reports a credential Entra refuses as GRAPH_TOKEN_FAILED with its hint', async () => {
    kit = await startKit('healthbad', {
      sandbox: { clients: [{ clientId: 'app-client-id', secret: 'the-real-secret' }] },
    });
    const { status, body } = await deep(kit);
    expect(status).toBe(503);
    expect(body.status).toBe('failing');
    expect(body.problems.map((p) => p.code)).toContain('GRAPH_TOKEN_FAILED');
    expect(body.problems[0]?.hint).toMatch(/AZURE_CLIENT_ID|secret/i);
    expect(body.graph[0]?.ok).toBe(false);
  });

  it('says the function cannot send when no credential is configured', async () => {
    kit = await startKit('healthnone', { settings: { AZURE_TENANT_ID: '', AZURE_CLIENT_SECRET: '' } });
    const { status, body } = await deep(kit);
    expect(status).toBe(503);
    expect(body.problems[0]).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(body.problems[0]?.message).toMatch(/AZURE_TENANT_ID/);
  });

  it('reports unreachable storage as STORAGE_UNAVAILABLE', async () => {
    kit = await startKit('healthstore');
    const dead =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;';
    const config = loadFunctionConfig({
      AzureWebJobsStorage: dead,
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET: 's',
      AZURE_AUTHORITY_HOST: kit.graph.authorityHost,
      BRIDGE_GRAPH_ENDPOINT: kit.graph.url,
      BRIDGE_SITE_SECRETS: JSON.stringify({ [SITE]: SITE_SECRET }),
    });
    const services = createFunctionServices(config, { storageMaxRetries: 0 });
    const { status, body } = await callDeepHealth(() => services);
    expect(status).toBe(503);
    expect(body.storage).toMatchObject({ ok: false, error: { code: 'STORAGE_UNAVAILABLE' } });
    expect(body.graph[0]?.ok).toBe(true);
  });

  it('reports an invalid configuration as CONFIG_INVALID listing the problems', async () => {
    const { status, body } = await callDeepHealth(() =>
      createFunctionServices(loadFunctionConfig({ BRIDGE_SITES: 'nope' })),
    );
    expect(status).toBe(503);
    expect(body.problems[0]).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(body.problems[0]?.message).toMatch(/BRIDGE_SITES/);
  });
});

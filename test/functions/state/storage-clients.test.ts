import { describe, expect, inject, it } from 'vitest';

import { createStorageClients } from '../../../functions/state/storage-clients';
import { uniqueStorageNames } from '../storage-names';

describe('storage clients factory', () => {
  it('builds identity-based clients on the configured service URIs (no shared key involved)', () => {
    const names = { table: 'bridgemessages', container: 'bridge-messages', queue: 'bridge-outbound' };
    const c = createStorageClients(
      {
        kind: 'identity',
        blobServiceUri: 'https://acct.blob.core.windows.net',
        queueServiceUri: 'https://acct.queue.core.windows.net',
        tableServiceUri: 'https://acct.table.core.windows.net',
        credential: 'managedidentity',
        managedIdentityClientId: '11111111-2222-3333-4444-555555555555',
      },
      names,
    );
    expect(c.container.url).toBe('https://acct.blob.core.windows.net/bridge-messages');
    expect(c.queue.url).toBe('https://acct.queue.core.windows.net/bridge-outbound');
    expect(c.table.url).toBe('https://acct.table.core.windows.net');
    expect(c.table.tableName).toBe('bridgemessages');
  });

  it('creates the table, container and queue from an Azurite connection string, once', async () => {
    const names = uniqueStorageNames('clients');
    const c = createStorageClients(
      { kind: 'connectionString', connectionString: inject('azuriteConnectionString') },
      names,
    );
    await Promise.all([c.ensureCreated(), c.ensureCreated()]);
    expect(await c.container.exists()).toBe(true);
    expect(await c.queue.exists()).toBe(true);
    await c.table.createEntity({ partitionKey: 'p', rowKey: 'r' });
    expect((await c.table.getEntity('p', 'r')).rowKey).toBe('r');
  });

  it('reports unreachable storage as STORAGE_UNAVAILABLE and tries again on the next call', async () => {
    const dead =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;';
    const c = createStorageClients(
      { kind: 'connectionString', connectionString: dead },
      uniqueStorageNames('dead'),
      { maxRetries: 0 },
    );
    await expect(c.ensureCreated()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
    await expect(c.ensureCreated()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});

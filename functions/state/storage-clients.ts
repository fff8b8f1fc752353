import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';

import { toStorageError } from './storage-errors';
import type { StorageConnection } from '../config';

/**
 * The one place storage clients are built, for both shapes the Functions host itself accepts for
 * AzureWebJobsStorage: a connection string (Azurite, local) and the identity-based form (service URIs +
 * managed identity, as deployed — shared keys are off in Azure).
 */
export interface StorageClients {
  table: TableClient;
  container: ContainerClient;
  queue: QueueClient;
  /** Creates the table, container and queue when missing; memoised, so call it before every use. */
  ensureCreated(): Promise<void>;
}

export interface StorageNames {
  table: string;
  container: string;
  queue: string;
}

export interface StorageClientOptions {
  /** Retries of one storage call after the first try (SDK default 3, with exponential backoff). */
  maxRetries?: number;
}

export function createStorageClients(
  connection: StorageConnection,
  names: StorageNames,
  options: StorageClientOptions = {},
): StorageClients {
  const retry = retryOptions(options);
  const { table, container, queue } =
    connection.kind === 'connectionString'
      ? fromConnectionString(connection.connectionString, names, retry)
      : fromIdentity(connection, names, retry);
  let ensured: Promise<void> | undefined;
  const ensureCreated = () => {
    ensured ??= Promise.all([
      table.createTable(),
      container.createIfNotExists(),
      queue.createIfNotExists(),
    ]).then(
      () => undefined,
      (err: unknown) => {
        ensured = undefined; // let the next call try again
        throw toStorageError(err, 'create table, container or queue');
      },
    );
    return ensured;
  };
  return { table, container, queue, ensureCreated };
}

interface RetryOptions {
  tables: { retryOptions?: { maxRetries: number } };
  blobsAndQueues: { retryOptions?: { maxTries: number } };
}

function retryOptions(options: StorageClientOptions): RetryOptions {
  if (options.maxRetries === undefined) return { tables: {}, blobsAndQueues: {} };
  return {
    tables: { retryOptions: { maxRetries: options.maxRetries } },
    blobsAndQueues: { retryOptions: { maxTries: options.maxRetries + 1 } },
  };
}

function fromConnectionString(connectionString: string, names: StorageNames, retry: RetryOptions) {
  // The SDKs refuse plain http unless told; only Azurite (local, loopback) is ever http.
  const insecure = /DefaultEndpointsProtocol=http;|Endpoint=http:|UseDevelopmentStorage=true/i.test(
    connectionString,
  );
  return {
    table: TableClient.fromConnectionString(connectionString, names.table, {
      allowInsecureConnection: insecure,
      ...retry.tables,
    }),
    container: BlobServiceClient.fromConnectionString(
      connectionString,
      retry.blobsAndQueues,
    ).getContainerClient(names.container),
    queue: QueueServiceClient.fromConnectionString(connectionString, retry.blobsAndQueues).getQueueClient(
      names.queue,
    ),
  };
}

function fromIdentity(
  connection: Extract<StorageConnection, { kind: 'identity' }>,
  names: StorageNames,
  retry: RetryOptions,
) {
  const credential: TokenCredential =
    connection.credential === 'managedidentity'
      ? new ManagedIdentityCredential(
          connection.managedIdentityClientId ? { clientId: connection.managedIdentityClientId } : {},
        )
      : new DefaultAzureCredential(
          connection.managedIdentityClientId
            ? { managedIdentityClientId: connection.managedIdentityClientId }
            : {},
        );
  return {
    table: new TableClient(connection.tableServiceUri, names.table, credential, retry.tables),
    container: new BlobServiceClient(
      connection.blobServiceUri,
      credential,
      retry.blobsAndQueues,
    ).getContainerClient(names.container),
    queue: new QueueServiceClient(
      connection.queueServiceUri,
      credential,
      retry.blobsAndQueues,
    ).getQueueClient(names.queue),
  };
}

import { MAX_RETRY_INTERVAL_MS } from '../core/custody';
import type { Logger } from '../core/log';
import { functionConfigFromEnvironment, type FunctionConfig } from './config';
import { createCredentialProvider, type CredentialProvider, type IdentitySettings } from './graph/credential';
import { createGraphMailer, type GraphMailerOptions } from './graph/mailer';
import { checkDelivery, planDelivery } from './mime/plan';
import { MailboxPacer } from './pacing/mailbox-pacer';
import type { FunctionServices, HandlerTuning, Mailer } from './services';
import { MessageStore } from './state/message-store';
import { OutboundQueue } from './state/outbound-queue';
import { createStorageClients } from './state/storage-clients';
import { TenantRegistry } from './tenants/tenant-registry';

/**
 * The composition root of the function app: storage clients, state store, pacer, credentials and mailer
 * from one FunctionConfig. The Functions host gets the set built from the environment at first use
 * (`defaultServices`); the local host and tests build their own with `createFunctionServices`.
 */
export const DEFAULT_TUNING: HandlerTuning = {
  attemptStaleMs: 5 * 60_000,
  // Mirrors host.json functionTimeout (30 min).
  maxAttemptMs: 30 * 60_000,
  queueRetryDelaysMs: [30_000, 60_000, 2 * 60_000, 5 * 60_000, 10 * 60_000, 20 * 60_000, 30 * 60_000],
  maxRetryIntervalMs: MAX_RETRY_INTERVAL_MS,
  sentItemsLagMs: 60_000,
  reconcileWindowMs: 5 * 60_000,
  pacingWaitMs: 5_000,
  // Mirrors host.json extensions.queues.maxDequeueCount (a test keeps them equal).
  maxDequeueCount: 8,
  tenantProbeMs: 5 * 60_000,
};

export interface ServiceOverrides {
  tuning?: Partial<HandlerTuning>;
  /** Mailbox pacing lease length (default 10 min). */
  pacingLeaseMs?: number;
  /** Retries of one storage call (SDK default 3, with backoff). */
  storageMaxRetries?: number;
  /** Mailer knobs that are not settings (request size limit, chunk size, timeouts). */
  mailer?: Pick<
    GraphMailerOptions,
    'maxRequestBytes' | 'uploadChunkBytes' | 'requestTimeoutMs' | 'chunkRetry'
  >;
}

export function createFunctionServices(
  config: FunctionConfig,
  overrides: ServiceOverrides = {},
): FunctionServices {
  const clients = createStorageClients(
    config.storage,
    { table: config.stateTable, container: config.blobContainer, queue: config.queueName },
    overrides.storageMaxRetries === undefined ? {} : { maxRetries: overrides.storageMaxRetries },
  );
  const ready = clients.ensureCreated;
  const outbound = new OutboundQueue(clients.container, clients.queue, ready);
  const store = new MessageStore(clients.table, ready);
  const pacer = new MailboxPacer(clients.table, ready, {
    limits: { concurrency: config.mailboxConcurrency, perMinute: config.mailboxPerMinute },
    ...(overrides.pacingLeaseMs ? { leaseMs: overrides.pacingLeaseMs } : {}),
  });

  const registry = new TenantRegistry(
    createStorageClients(
      config.storage,
      { table: config.registryTable, container: config.blobContainer, queue: config.queueName },
      overrides.storageMaxRetries === undefined ? {} : { maxRetries: overrides.storageMaxRetries },
    ).table,
    clients.table,
  );

  let credentials: CredentialProvider | undefined;
  const mailerFor = (tenantId: string | undefined, logger: Logger): Mailer => {
    // Built on first use and kept: each credential holds its tenant's token cache. Throws CONFIG_INVALID
    // (every time) when no credential is configured.
    credentials ??= createCredentialProvider(identitySettings(config));
    return createGraphMailer({
      graphEndpoint: config.graphEndpoint,
      credential: credentials.credentialFor(tenantId),
      logger,
      ...overrides.mailer,
    });
  };

  return {
    config,
    store,
    outbound,
    pacer,
    registry,
    mailerFor,
    plan: planDelivery,
    check: checkDelivery,
    probeStorage: async () => {
      await outbound.probe();
      await store.get('~probe', 'health-probe');
    },
    tuning: { ...DEFAULT_TUNING, ...overrides.tuning },
    now: () => new Date(),
  };
}

/** The credential settings of the app registration (the mailer, the deep health and diagnostics use them). */
export function identitySettings(config: FunctionConfig): IdentitySettings {
  const id = config.identity;
  const s: IdentitySettings = {
    tenantId: id.tenantId ?? '',
    clientId: id.clientId ?? '',
    authorityHost: id.authorityHost,
  };
  if (id.clientSecret) s.clientSecret = id.clientSecret;
  if (id.clientCertificatePath) s.clientCertificatePath = id.clientCertificatePath;
  if (id.managedIdentityClientId) s.managedIdentityClientId = id.managedIdentityClientId;
  return s;
}

let cached: FunctionServices | undefined;

/** The services of the Functions host process, from its app settings; throws CONFIG_INVALID listing every problem. */
export function defaultServices(): FunctionServices {
  cached ??= createFunctionServices(functionConfigFromEnvironment());
  return cached;
}

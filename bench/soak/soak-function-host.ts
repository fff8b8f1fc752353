import { loadFunctionConfig } from '../../functions/config';
import { startLocalFunctionHost } from '../../dev/function-host/host';
import { loadLocalHostSettings, localHostEnvironment } from '../../dev/function-host/host-config';

/**
 * The local function host as the soak runs it (a child process it can SIGKILL): the same host and handlers
 * as `npm run start:function`, with the waits shortened the way the tests shorten them (retry delays of
 * seconds instead of minutes, a Graph request timeout of seconds), so a run of minutes sees many retries.
 * SOAK_FUNCTION_TUNING (JSON) carries the numbers; everything else is the function's normal app settings.
 */
async function main(): Promise<void> {
  const env = localHostEnvironment();
  const config = loadFunctionConfig(env);
  const local = loadLocalHostSettings(env);
  const tuning = JSON.parse(env.SOAK_FUNCTION_TUNING ?? '{}') as {
    queueRetryDelaysMs?: number[];
    maxRetryIntervalMs?: number;
    attemptStaleMs?: number;
    maxAttemptMs?: number;
    sentItemsLagMs?: number;
    reconcileWindowMs?: number;
    graphTimeoutMs?: number;
    pacingLeaseMs?: number;
  };
  const host = await startLocalFunctionHost(config, {
    host: local.host,
    port: local.port,
    ...(local.functionKey ? { functionKey: local.functionKey } : {}),
    queue: { maxPollingIntervalMs: 200, visibilityTimeoutMs: 2000 },
    overrides: {
      // A SIGKILLed host's mailbox leases block that mailbox until they expire (10 min by default).
      pacingLeaseMs: tuning.pacingLeaseMs ?? 20_000,
      tuning: {
        attemptStaleMs: tuning.attemptStaleMs ?? 15_000,
        queueRetryDelaysMs: tuning.queueRetryDelaysMs ?? [1000, 2000, 4000],
        maxRetryIntervalMs: tuning.maxRetryIntervalMs ?? 8000,
        maxAttemptMs: tuning.maxAttemptMs ?? 15_000,
        // Sent Items look-ups of lost answers (functions/delivery/reconcile-message.ts), in seconds not minutes.
        sentItemsLagMs: tuning.sentItemsLagMs ?? 1000,
        reconcileWindowMs: tuning.reconcileWindowMs ?? 3000,
        pacingWaitMs: 200,
      },
      mailer: { requestTimeoutMs: tuning.graphTimeoutMs ?? 5000 },
    },
    logHandler: (_level, ...args) => process.stdout.write(`${args.map(String).join(' ')}\n`),
  });
  process.stdout.write(`soak function host listening on ${host.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await host.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { ensureSelfSignedCert } from '../core/self-signed-cert';
import type { EdgeConfig } from './config';
import { EdgeEvents } from './events';
import { Forwarder } from './forward/forwarder';
import { ReplyHoldPolicy } from './forward/reply-hold-policy';
import { signedGet } from './doctor/function-requests';
import { WIRE_PATH } from '../core/wire';
import { FunctionClient, type FunctionPoster } from './forward/function-client';
import { ThreadedFunctionClient } from './forward/threaded-function-client';
import { registerHealth } from './http/health';
import { HttpRouter } from './http/router';
import { attachOperations } from './metrics/operations';
import { SmtpIntake } from './smtp/intake';
import { QueueAdmin } from './admin/queue-admin';
import { Spool } from './spool/spool';
import { attachStatusPage } from './status-page/status-page';

export interface EdgeListener {
  smtpPort: number;
  smtpsPort?: number;
  httpPort?: number;
  /** The durable spool: list/get/retry/delete/stats for the CLI and the status page. */
  spool: Spool;
  /** Routes of the HTTP server (/healthz is there); /metrics and the status page register here. */
  router: HttpRouter;
  /** accepted / refused / outcome / replied, for counters. */
  events: EdgeEvents;
  /** Open SMTP connections right now. */
  smtpConnections(): number;
  /** Graceful stop: no new connections, sessions and POSTs in flight finish (bounded), the spool keeps the rest. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Start the HTTP server (default true). */
  http?: boolean;
}

/**
 * The composition root of the edge listener, usable in-process (tests, the local stack) and from main.ts:
 * spool (recovering what a previous run left) → function client → forwarder → SMTP intake → HTTP server.
 */
export async function startEdgeListener(
  config: EdgeConfig,
  options: StartOptions = {},
): Promise<EdgeListener> {
  const logger = options.logger ?? silentLogger;
  const events = new EdgeEvents();
  const tls = await tlsMaterial(config);
  const spool = await Spool.open({
    dataDir: config.dataDir,
    instanceId: config.instanceId,
    maxBytes: config.spool.maxBytes,
    minFreeBytes: config.spool.minFreeBytes,
    keepDone: config.spool.keepDone,
    keepDoneMs: config.spool.keepDoneMs,
    retentionMs: config.spool.retentionMs,
    logger,
  });
  const clientOptions: ConstructorParameters<typeof FunctionClient>[0] = {
    baseUrl: config.forward.url,
    siteId: config.siteId,
    siteSecret: config.forward.siteSecret,
    timeoutMs: config.forward.timeoutMs,
    maxSockets: config.forward.concurrency,
  };
  if (config.forward.functionKey) clientOptions.functionKey = config.forward.functionKey;
  const client: FunctionPoster = config.forward.thread
    ? new ThreadedFunctionClient(clientOptions, logger)
    : new FunctionClient(clientOptions);
  try {
    await client.start?.();
  } catch (e) {
    await spool.close();
    throw e;
  }
  const forwarder = new Forwarder({
    spool,
    client,
    backoff: { scheduleMs: config.forward.retryScheduleMs, jitter: config.forward.retryJitter },
    concurrency: config.forward.concurrency,
    maxQueueAgeMs: config.forward.maxQueueAgeMs,
    cloudState: (sid) =>
      signedGet(config, `${WIRE_PATH}/${encodeURIComponent(sid)}`, {
        messageId: sid,
        timeoutMs: config.forward.timeoutMs,
      }),
    logger,
    events,
  });
  const replyHold = new ReplyHoldPolicy({
    mode: config.forward.replyHold.mode,
    budgetMs: config.forward.budgetMs,
    trustMs: config.forward.replyHold.trustMs,
    backlog: config.forward.replyHold.backlog,
  });
  // Every answer of the function (first attempt, retries, the cloud's final state) teaches the policy.
  events.on('outcome', (o) => replyHold.learn(o.id, o.kind, o.code));
  const intake = new SmtpIntake({ config, spool, forwarder, replyHold, tls, logger, events });
  const router = new HttpRouter();
  let listening = false;
  // One implementation of retry/delete for the CLI's admin API and the status page (one log line each).
  const admin = new QueueAdmin(spool, logger);
  const operations = attachOperations({
    router,
    spool,
    events,
    dataDir: config.dataDir,
    siteId: config.siteId,
    instanceId: config.instanceId,
    openConnections: () => intake.activeConnections,
    admin,
  });
  registerHealth(
    router,
    spool,
    () => ({ listening, connections: intake.activeConnections }),
    operations.health,
  );
  let smtpPort = 0;
  const statusPage = attachStatusPage({
    router,
    spool,
    admin,
    events,
    config,
    logger,
    smtpPort: () => smtpPort,
    smtpConnections: () => intake.activeConnections,
  });

  let httpServer: Server | undefined;
  try {
    const ports = await intake.listen();
    smtpPort = ports.smtpPort;
    listening = true;
    forwarder.start();
    const listener: EdgeListener = {
      ...ports,
      spool,
      router,
      events,
      smtpConnections: () => intake.activeConnections,
      close: async () => {
        logger.info({ event: 'HOST_STOPPED', phase: 'stopping' }, 'edge listener stopping');
        listening = false;
        await withTimeout(intake.close(), config.shutdownTimeoutMs + 1000);
        await forwarder.stop(config.shutdownTimeoutMs);
        if (httpServer) await closeHttp(httpServer);
        statusPage.close();
        await client.close();
        await spool.close();
        logger.info({ event: 'HOST_STOPPED', phase: 'stopped' }, 'edge listener stopped');
      },
    };
    if (options.http !== false) {
      httpServer = createServer((req, res) => void router.handle(req, res));
      listener.httpPort = await listenHttp(httpServer, config.http.port, config.http.host);
      await operations.published(listener.httpPort, config.http.host);
    }
    logger.info(
      {
        event: 'HOST_STARTED',
        smtpPort: listener.smtpPort,
        smtpsPort: listener.smtpsPort,
        httpPort: listener.httpPort,
        site: config.siteId,
        instance: config.instanceId,
        spoolDepth: spool.stats().depth,
      },
      'edge listener started',
    );
    return listener;
  } catch (e) {
    await intake.close().catch(() => undefined);
    await forwarder.stop(0);
    client.close();
    await spool.close();
    throw e;
  }
}

async function tlsMaterial(config: EdgeConfig): Promise<{ key: string; cert: string }> {
  if (config.tls.certFile && config.tls.keyFile) {
    return { cert: readFileSync(config.tls.certFile, 'utf8'), key: readFileSync(config.tls.keyFile, 'utf8') };
  }
  const pair = await ensureSelfSignedCert(join(config.dataDir, 'tls'), {
    commonName: config.smtp.hostname,
    altNames: [config.smtp.hostname],
  });
  return { cert: pair.cert, key: pair.key };
}

function listenHttp(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';

import { memoryLogger } from '../../core/log';
import { loadEdgeConfig, type EdgeConfig } from '../../edge-listener/config';
import { startEdgeListener, type EdgeListener } from '../../edge-listener/edge';

/**
 * The on-site half of the end-to-end tests: the real edge listener, configured as a site would configure it
 * (environment settings), pointed at the local function host with the site's secret and the function key.
 */

/** What the edge needs to know about the function it forwards to (an e2e FunctionStack has these). */
export interface FunctionTarget {
  url: string;
  siteId: string;
  siteSecret: string;
  functionKey: string;
}

/** Listener settings for a test: loopback, OS-chosen ports, the run's TLS certificate, short retry waits. */
export function e2eEdgeEnv(
  target: FunctionTarget,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    BRIDGE_SITE_ID: target.siteId,
    BRIDGE_SITE_SECRET: target.siteSecret,
    BRIDGE_FUNCTION_KEY: target.functionKey,
    BRIDGE_FUNCTION_URL: target.url,
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_INSTANCE_ID: 'e2e-edge',
    BRIDGE_SMTP_HOST: '127.0.0.1',
    BRIDGE_SMTP_PORT: '0',
    BRIDGE_HTTP_PORT: '0',
    BRIDGE_SMTP_HOSTNAME: 'edge.e2e.test',
    BRIDGE_SPOOL_MIN_FREE_BYTES: '0',
    BRIDGE_RETRY_SCHEDULE: '300ms,600ms,1s',
    BRIDGE_RETRY_JITTER: '0',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '3s',
    BRIDGE_TLS_CERT_FILE: process.env.BRIDGE_TEST_TLS_CERT ?? '',
    BRIDGE_TLS_KEY_FILE: process.env.BRIDGE_TEST_TLS_KEY ?? '',
    ...extra,
  };
}

export interface E2eEdge {
  listener: EdgeListener;
  config: EdgeConfig;
  dataDir: string;
  smtpPort: number;
  lines: Array<Record<string, unknown>>;
  /** Stops the listener and removes its data directory. */
  close(): Promise<void>;
}

/** The edge listener in this process (startEdgeListener), as the local stack runs it. */
export async function startE2eEdge(
  target: FunctionTarget,
  extra: Record<string, string> = {},
): Promise<E2eEdge> {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-edge-'));
  const loaded = loadEdgeConfig({ env: e2eEdgeEnv(target, dataDir, extra) });
  if ('issues' in loaded) throw new Error(`edge config invalid:\n${loaded.issues.join('\n')}`);
  const logger = memoryLogger();
  const listener = await startEdgeListener(loaded.config, { logger });
  return {
    listener,
    config: loaded.config,
    dataDir,
    smtpPort: listener.smtpPort,
    lines: logger.lines,
    close: async () => {
      await listener.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A nodemailer SMTP transport to the listener, as a copier or an application would be configured. */
export function smtpTransport(
  port: number,
  opts: { pool?: boolean; maxConnections?: number; maxMessages?: number } = {},
) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    // STARTTLS is taken when offered; the listener uses the run's test certificate (trusted via NODE_EXTRA_CA_CERTS).
    tls: { servername: 'localhost' },
    ...(opts.pool
      ? { pool: true, maxConnections: opts.maxConnections ?? 1, maxMessages: opts.maxMessages ?? Infinity }
      : {}),
  });
}

/** The spool id the listener names in its 250 reply ("… sent as <id>" / "… queued as <id>"). */
export function spoolIdFromReply(reply: string): string {
  const m = / as (\S+)\s*$/.exec(reply.trim());
  if (!m?.[1]) throw new Error(`no spool id in reply: ${reply}`);
  return m[1];
}

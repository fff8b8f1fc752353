import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';

import type { EdgeConfig } from '../../edge-listener/config';
import type { EdgeListener } from '../../edge-listener/edge';
import { startTestEdge } from '../edge-listener/helpers/edge-harness';
import { edgeEnv, type FunctionTarget } from './edge-env';

/**
 * The on-site half of the end-to-end tests: the real edge listener, configured as a site would configure it
 * (environment settings), pointed at the local function host with the site's secret and the function key.
 */

/**
 * Listener settings for an e2e test: the shared test settings (edge-env.ts) with the forward budget a site
 * runs with (the default), a host name of its own and a retry table of three short waits.
 */
export function e2eEdgeEnv(
  target: FunctionTarget,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return edgeEnv(target, dataDir, { ...E2E_EDGE_SETTINGS, ...extra });
}

const E2E_EDGE_SETTINGS: Record<string, string | undefined> = {
  BRIDGE_INSTANCE_ID: 'e2e-edge',
  BRIDGE_SMTP_HOSTNAME: 'edge.e2e.test',
  BRIDGE_FORWARD_BUDGET_MS: undefined,
  BRIDGE_RETRY_SCHEDULE: '300ms,600ms,1s',
  BRIDGE_SHUTDOWN_TIMEOUT_MS: '3s',
};

export interface E2eEdge {
  listener: EdgeListener;
  config: EdgeConfig;
  dataDir: string;
  smtpPort: number;
  lines: Array<Record<string, unknown>>;
  /** Stops the listener and removes its data directory. */
  close(): Promise<void>;
}

/** The edge listener in this process (startTestEdge with the e2e settings), as the local stack runs it. */
export async function startE2eEdge(
  target: FunctionTarget,
  extra: Record<string, string> = {},
): Promise<E2eEdge> {
  const edge = await startTestEdge(
    target,
    { ...E2E_EDGE_SETTINGS, ...extra },
    mkdtempSync(join(tmpdir(), 'e2e-edge-')),
  );
  return {
    listener: edge.listener,
    config: edge.config,
    dataDir: edge.dataDir,
    smtpPort: edge.listener.smtpPort,
    lines: edge.lines,
    close: () => edge.cleanup(),
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

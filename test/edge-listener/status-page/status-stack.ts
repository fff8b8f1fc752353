import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';

import { memoryLogger } from '../../../core/log';
import { type EdgeConfig, loadEdgeConfig } from '../../../edge-listener/config';
import { type EdgeListener, startEdgeListener } from '../../../edge-listener/edge';
import type { StatusSnapshot } from '../../../edge-listener/status-page/status-snapshot';
import { type FunctionStack, startFunctionStack } from '../../helpers/e2e-function-stack';
import { TcpRelay } from '../../helpers/tcp-relay';

/**
 * The whole bridge in one test process, every part real: the Graph sandbox (product code, the https Graph
 * and Entra look-alike), Azurite, the local function host with the real handlers, and the edge listener
 * with its status page pointed at the sandbox — what `npm start` runs as processes, here in-process so a
 * test can inject Graph faults, cut the edge off from the function (`functionSwitch`) and look inside.
 */
export interface StatusStack {
  fn: FunctionStack;
  /** Between the edge and the function host: `down()` makes the function unreachable. */
  functionSwitch: TcpRelay;
  edge: EdgeListener;
  config: EdgeConfig;
  /** http://127.0.0.1:PORT (no trailing slash). */
  baseUrl: string;
  lines: Array<Record<string, unknown>>;
  send(mail: Mail.Options): Promise<string>;
  snapshot(headers?: Record<string, string>): Promise<StatusSnapshot>;
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'status-page-admin-token-0123456789';

export async function startStatusStack(
  name: string,
  edgeEnv: Record<string, string> = {},
): Promise<StatusStack> {
  // Any sender may send, as in the `npm start` sandbox.
  const fn = await startFunctionStack(name, { settings: { BRIDGE_ALLOWED_SENDERS: '*' } });
  const functionSwitch = await TcpRelay.start(fn.url);
  const dataDir = mkdtempSync(join(tmpdir(), `status-${name}-`));
  const loaded = loadEdgeConfig({
    env: {
      BRIDGE_SITE_ID: fn.siteId,
      BRIDGE_SITE_SECRET: fn.siteSecret,
      BRIDGE_FUNCTION_KEY: fn.functionKey,
      BRIDGE_FUNCTION_URL: functionSwitch.url,
      BRIDGE_DATA_DIR: dataDir,
      BRIDGE_INSTANCE_ID: 'status-test',
      BRIDGE_SMTP_HOST: '127.0.0.1',
      BRIDGE_SMTP_PORT: '0',
      BRIDGE_HTTP_PORT: '0',
      BRIDGE_SPOOL_MIN_FREE_BYTES: '0',
      BRIDGE_RETRY_SCHEDULE: '300ms,600ms',
      BRIDGE_RETRY_JITTER: '0',
      BRIDGE_SHUTDOWN_TIMEOUT_MS: '2s',
      BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      BRIDGE_SANDBOX_URL: fn.graph.url,
      ...edgeEnv,
    },
  });
  if ('issues' in loaded) throw new Error(loaded.issues.join('\n'));
  const logger = memoryLogger();
  const edge = await startEdgeListener(loaded.config, { logger });
  const baseUrl = `http://127.0.0.1:${edge.httpPort}`;
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: edge.smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  return {
    fn,
    functionSwitch,
    edge,
    config: loaded.config,
    baseUrl,
    lines: logger.lines,
    send: async (mail) => {
      const info = await transport.sendMail(mail);
      const id = / as (\S+)\s*$/.exec(String(info.response))?.[1];
      if (!id) throw new Error(`no spool id in ${info.response}`);
      return id;
    },
    snapshot: async (headers = {}) => {
      const res = await fetch(`${baseUrl}/status/api/snapshot`, { headers });
      if (res.status !== 200) throw new Error(`snapshot: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as StatusSnapshot;
    },
    close: async () => {
      transport.close();
      await edge.close();
      await functionSwitch.close();
      await fn.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

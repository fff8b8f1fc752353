import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { memoryLogger } from '../../../core/log';
import { type EdgeConfig, loadEdgeConfig } from '../../../edge-listener/config';
import { type EdgeListener, startEdgeListener } from '../../../edge-listener/edge';
import type { FakeFunction } from './fake-function';

export interface TestEdge {
  listener: EdgeListener;
  config: EdgeConfig;
  dataDir: string;
  lines: Array<Record<string, unknown>>;
  env: Record<string, string>;
  /** Stops the listener; the data directory stays until `cleanup`. */
  stop(): Promise<void>;
  /** Starts a new listener on the same data directory (restart). */
  restart(extraEnv?: Record<string, string>): Promise<TestEdge>;
  cleanup(): Promise<void>;
}

/** The environment a test listener runs with: loopback ports chosen by the OS, fast timings, fake function. */
export function edgeEnv(
  fn: FakeFunction,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    BRIDGE_SITE_ID: fn.siteId,
    BRIDGE_SITE_SECRET: fn.siteSecret,
    BRIDGE_FUNCTION_KEY: fn.functionKey,
    BRIDGE_FUNCTION_URL: fn.url,
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_INSTANCE_ID: 'test-edge',
    BRIDGE_SMTP_HOST: '127.0.0.1',
    BRIDGE_SMTP_PORT: '0',
    BRIDGE_HTTP_PORT: '0',
    BRIDGE_SPOOL_MIN_FREE_BYTES: '0',
    BRIDGE_FORWARD_BUDGET_MS: '2000',
    BRIDGE_RETRY_SCHEDULE: '200ms,400ms',
    BRIDGE_RETRY_JITTER: '0',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '2s',
    // The run's test certificate (vitest.config.mts) saves generating a key per listener; one test covers
    // the generated self-signed certificate by setting these to ''.
    BRIDGE_TLS_CERT_FILE: process.env.BRIDGE_TEST_TLS_CERT ?? '',
    BRIDGE_TLS_KEY_FILE: process.env.BRIDGE_TEST_TLS_KEY ?? '',
    ...extra,
  };
}

export function loadTestConfig(env: Record<string, string>): EdgeConfig {
  const r = loadEdgeConfig({ env });
  if ('issues' in r) throw new Error(`test config invalid:\n${r.issues.join('\n')}`);
  return r.config;
}

export async function startTestEdge(
  fn: FakeFunction,
  extraEnv: Record<string, string> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'edge-test-')),
): Promise<TestEdge> {
  const env = edgeEnv(fn, dataDir, extraEnv);
  const config = loadTestConfig(env);
  const logger = memoryLogger();
  const listener = await startEdgeListener(config, { logger });
  let stopped = false;
  const edge: TestEdge = {
    listener,
    config,
    dataDir,
    lines: logger.lines,
    env,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await listener.close();
    },
    restart: async (more = {}) => {
      await edge.stop();
      return startTestEdge(fn, { ...extraEnv, ...more }, dataDir);
    },
    cleanup: async () => {
      await edge.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return edge;
}

/** The spool id from a 250 reply ("… sent as <id>" / "… queued as <id>"). */
export function idFromReply(text: string): string {
  const m = / as (\S+)\s*$/.exec(text.trim());
  if (!m?.[1]) throw new Error(`no spool id in reply: ${text}`);
  return m[1];
}

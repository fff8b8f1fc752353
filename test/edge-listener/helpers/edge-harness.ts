import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { type EdgeConfig, loadEdgeConfig } from '../../../edge-listener/config';
import { type EdgeListener, startEdgeListener } from '../../../edge-listener/edge';
import { edgeEnv, type FunctionTarget } from '../../helpers/edge-env';
import { FakeFunction } from '../../helpers/fake-function';

export interface TestEdge {
  listener: EdgeListener;
  config: EdgeConfig;
  dataDir: string;
  lines: Array<Record<string, unknown>>;
  env: Record<string, string>;
  /** Stops the listener; the data directory stays until `cleanup`. */
  stop(): Promise<void>;
  /** Starts a new listener on the same data directory (restart). */
  restart(extraEnv?: Record<string, string | undefined>): Promise<TestEdge>;
  cleanup(): Promise<void>;
}

export function loadTestConfig(env: Record<string, string>): EdgeConfig {
  const r = loadEdgeConfig({ env });
  if ('issues' in r) throw new Error(`test config invalid:\n${r.issues.join('\n')}`);
  return r.config;
}

/** A listener in this process in front of `fn` (a FakeFunction, or the real function of an e2e stack). */
export async function startTestEdge(
  fn: FunctionTarget,
  extraEnv: Record<string, string | undefined> = {},
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

/**
 * The usual set-up of a test file: one FakeFunction and one listener in front of it, started before the
 * file's tests and stopped after them. `bind` gets both once they run, e.g.
 * `useTestEdge((started) => ({ fn, edge } = started));` for a file that keeps them in `let fn, edge`.
 */
export function useTestEdge(
  bind: (started: { fn: FakeFunction; edge: TestEdge }) => void,
  extraEnv: Record<string, string> = {},
): void {
  let fn: FakeFunction | undefined;
  let edge: TestEdge | undefined;
  beforeAll(async () => {
    fn = await FakeFunction.start();
    edge = await startTestEdge(fn, extraEnv);
    bind({ fn, edge });
  });
  afterAll(async () => {
    await edge?.cleanup();
    await fn?.close();
  });
}

/** The spool id from a 250 reply ("… sent as <id>" / "… queued as <id>"). */
export function idFromReply(text: string): string {
  const m = / as (\S+)\s*$/.exec(text.trim());
  if (!m?.[1]) throw new Error(`no spool id in reply: ${text}`);
  return m[1];
}

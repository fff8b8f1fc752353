import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { LogFields, Logger } from '../../core/log';
import type { SandboxMessage } from '../../dev/graph-sandbox/options';
import { SoakCluster } from '../soak/soak-cluster';

/**
 * The whole stack as `npm start` runs it, for the stack benchmarks: Azurite, the local function host
 * (dev/function-host/host-main.ts, the function's default settings: pacing 4 concurrent and 30 a minute per
 * mailbox) and the edge listener (its defaults, info logging to a file) as child processes wired by
 * scripts/stack/stack-processes.ts — through bench/soak/soak-cluster.ts, which already starts them that way.
 * The Graph sandbox runs in this process (it stands for Microsoft's side): with Exchange's limit of 4
 * concurrent requests per mailbox, counting every refusal, and stamping every request's arrival with the
 * clock the benchmark's SMTP client uses.
 */
export interface StackUnderTest {
  cluster: SoakCluster;
  smtpPort: number;
  /** bridge_edge_messages_accepted_total from the edge's /metrics. */
  accepted(): Promise<number>;
  /** Answers of the sandbox with status ≥ 400 (Graph and token routes), by status. */
  refusals: Map<number, number>;
  workDir: string;
  close(): Promise<void>;
}

/** The internetMessageId the function gave a kept message (the edge's spool id + site: one per submission). */
export function internetMessageIdOf(m: SandboxMessage): string | undefined {
  if (m.mime) {
    const header = /^message-id:[ \t]*(<[^>\r\n]*>)/im.exec(m.mime.subarray(0, 64 * 1024).toString('latin1'));
    if (header) return header[1];
  }
  const json = m.requests[0]?.json as
    { internetMessageId?: unknown; message?: { internetMessageId?: unknown } } | undefined;
  const id = json?.message?.internetMessageId ?? json?.internetMessageId;
  return typeof id === 'string' ? id : undefined;
}

/** Counts the sandbox's refusals from its log events (SANDBOX_REQUEST_REFUSED carries the status). */
function countingLogger(refusals: Map<number, number>): Logger {
  const count = (o: LogFields) => {
    const f = o as { event?: string; status?: number };
    if (f.event === 'SANDBOX_REQUEST_REFUSED' && typeof f.status === 'number')
      refusals.set(f.status, (refusals.get(f.status) ?? 0) + 1);
  };
  const logger: Logger = {
    debug: count,
    info: count,
    warn: count,
    error: count,
    child: () => logger,
  };
  return logger;
}

export async function startStackUnderTest(o: {
  keptMessages?: number;
  onMessage?: (m: SandboxMessage) => void;
  deliveryKey?: (m: SandboxMessage) => string;
}): Promise<StackUnderTest> {
  const workDir = mkdtempSync(join(tmpdir(), 'stack-bench-'));
  const refusals = new Map<number, number>();
  let cluster: SoakCluster;
  try {
    cluster = await SoakCluster.start({
      workDir,
      spoolDir: join(workDir, 'data'),
      // npm start's edge logs at info (to its log file); the soak's cluster turns it down to warn
      edgeEnv: { BRIDGE_LOG_LEVEL: 'info' },
      functionEnv: {},
      functionTuning: {},
      functionHost: 'stock',
      sandbox: { mailboxConcurrency: 4, logger: countingLogger(refusals) },
      tokenLifetimeSec: 3599,
      keptMessages: o.keptMessages ?? 2000,
      ...(o.onMessage ? { onMessage: o.onMessage } : {}),
      ...(o.deliveryKey ? { deliveryKey: o.deliveryKey } : {}),
    });
  } catch (e) {
    rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
  return {
    cluster,
    smtpPort: cluster.smtpPort,
    refusals,
    workDir,
    accepted: async () => {
      const text = await (await fetch(`http://127.0.0.1:${cluster.httpPort}/metrics`)).text();
      return Number(/^bridge_edge_messages_accepted_total (\d+)$/m.exec(text)?.[1] ?? NaN);
    },
    close: async () => {
      await cluster.close();
      if (process.env.BENCH_KEEP_WORK_DIR !== '1') rmSync(workDir, { recursive: true, force: true });
    },
  };
}

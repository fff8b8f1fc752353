import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { freePort } from '../../scripts/stack/readiness';
import { firstJsonLine, type Started, startProcess, waitForPort } from './processes';

/** One SMTP server under test: where it listens, which process to charge CPU to, how to stop it. */
export interface Target {
  name: string;
  port: number;
  /** The process whose CPU is reported per message. */
  pid: number;
  /** Charge the CPU of every process under pid (a forking server), not just pid itself. */
  cpuOfTree?: boolean;
  /** Messages it has stored so far, when it can tell (the edge's /metrics). */
  accepted?(): Promise<number>;
  stop(): Promise<void>;
}

const TSX = ['--import', 'tsx'];

export const SMTP_SINK_NAME = 'Postfix smtp-sink (C, discards)';
export const STOCK_DISCARD_NAME = 'smtp-server 3.21, stock (100 ms greeting delay), discards';
export const LAN_DISCARD_NAME = 'smtp-server without greeting delay (LanSmtpServer), discards';

export async function smtpSinkTarget(): Promise<Target> {
  const port = await freePort();
  const p = startProcess('/usr/sbin/smtp-sink', ['-u', 'nobody', `127.0.0.1:${port}`, '256']);
  await waitForPort(port);
  return { name: SMTP_SINK_NAME, port, pid: p.pid, stop: p.stop };
}

export async function discardTarget(kind: 'stock' | 'lan'): Promise<Target> {
  const p = startProcess(process.execPath, [...TSX, join(__dirname, 'discard-server.ts'), kind], {
    env: { ...process.env },
  });
  const { port } = (await firstJsonLine(p.child)) as { port: number };
  const name = kind === 'stock' ? STOCK_DISCARD_NAME : LAN_DISCARD_NAME;
  return { name, port, pid: p.pid, stop: p.stop };
}

export interface EdgeTargetOptions {
  name: string;
  bundle: string;
  workDir: string;
  env?: Record<string, string>;
  /** Extra node options for the listener (e.g. --cpu-prof, bench/edge/README.md). */
  nodeArgs?: string[];
}

/** The edge's settings in the benchmarks: a bench site forwarding to the local sink, room for a 150 MB message. */
export function benchEdgeEnv(p: {
  sinkPort: number;
  dataDir: string;
  smtpPort: number;
  httpPort: number;
}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    BRIDGE_SITE_ID: 'bench',
    BRIDGE_INSTANCE_ID: 'bench',
    BRIDGE_FUNCTION_URL: `http://127.0.0.1:${p.sinkPort}`,
    BRIDGE_SITE_SECRET: 'bench-site-secret-0123456789',
    BRIDGE_DATA_DIR: p.dataDir,
    BRIDGE_SMTP_HOST: '127.0.0.1',
    BRIDGE_SMTP_PORT: String(p.smtpPort),
    BRIDGE_HTTP_PORT: String(p.httpPort),
    BRIDGE_MAX_MESSAGE_BYTES: '150MiB',
    BRIDGE_SPOOL_MIN_FREE_BYTES: '64MiB',
  };
}

/** The real listener (single-file build) with its durable spool, forwarding to a local sink that answers "sent". */
export async function edgeTarget(o: EdgeTargetOptions): Promise<Target> {
  const sink: Started = startProcess(process.execPath, [...TSX, join(__dirname, 'function-sink.ts')]);
  const { port: sinkPort } = (await firstJsonLine(sink.child)) as { port: number };
  const dataDir = mkdtempSync(join(o.workDir, 'spool-'));
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const env = { ...benchEdgeEnv({ sinkPort, dataDir, smtpPort, httpPort }), ...o.env };
  const edge = startProcess(process.execPath, [...(o.nodeArgs ?? []), o.bundle, 'start'], {
    env,
    logFile: join(o.workDir, 'edge.log'),
  });
  await waitForPort(smtpPort);
  await waitForPort(httpPort);
  return {
    name: o.name,
    port: smtpPort,
    pid: edge.pid,
    accepted: async () => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      return Number(/^bridge_edge_messages_accepted_total (\d+)$/m.exec(text)?.[1] ?? NaN);
    },
    stop: async () => {
      await edge.stop();
      await sink.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

import { freePort } from '../../scripts/stack/readiness';
import { azuriteConnectionString } from '../../scripts/stack/stack-processes';

export interface Azurite {
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  stop(): Promise<void>;
}

/**
 * A free port below Linux's ephemeral range (32768–60999), for a server that must get the same port again
 * after a restart: a port from the ephemeral range can meanwhile be taken as the local port of some outgoing
 * connection of a test running in parallel, and the restart then fails with EADDRINUSE (seen once in CI).
 */
export async function freeStablePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

function waitForPort(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`azurite did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts Azurite in memory on free loopback ports. The flags are the ones docs/design/toolchain.md §6 found necessary:
 * telemetry off (no traffic off the machine), API version check off (the storage SDKs are newer than the
 * Azurite that still runs on Node 20). Started as `node azurite.js` directly so that killing it frees the ports.
 */
export async function startAzurite(opts: { location?: string } = {}): Promise<Azurite> {
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  const bin = join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'azurite.js');
  const args = [
    bin,
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    ...(opts.location ? ['--location', opts.location] : ['--inMemoryPersistence']),
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(ports.blob),
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(ports.queue),
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(ports.table),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 20_000;
  try {
    await Promise.all([
      waitForPort(ports.blob, deadline),
      waitForPort(ports.queue, deadline),
      waitForPort(ports.table, deadline),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  return {
    connectionString: azuriteConnectionString(ports),
    ports,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

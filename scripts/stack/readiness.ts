import http from 'node:http';
import https from 'node:https';
import { connect, createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ManagedChild } from './managed-child';

/** Waits until `probe` succeeds, the child exits (fail with its last output), or the deadline passes. */
export async function waitUntilReady(
  child: ManagedChild,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(
    () => (exited = true),
    () => (exited = true),
  );
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 500)) {
    if (await probe().catch(() => false)) return;
    if (exited || !child.running) {
      await child.exited.catch(() => undefined); // its last lines are read by then
      throw new Error(`${child.name} exited while starting.\n${indent(child.recentOutput())}`);
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what} was not ready within ${Math.round(timeoutMs / 1000)} s.\n${indent(child.recentOutput())}`,
      );
    await sleep(delayMs);
  }
}

export function tcpAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True when GET `url` answers 200 (https verified against `ca` when given). */
export function httpOk(url: string, ca?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const options = { timeout: 2000, ...(ca ? { ca } : {}) };
    const req = (u.protocol === 'https:' ? https : http).get(u, options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

/** A port the OS considers free right now on 127.0.0.1 (used when a setting says 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Ports held open until the process that needs them is about to start. `freePort()` closes its probe at
 * once, so the kernel may hand the same port to the next `freePort()` — two children of `npm start` then
 * got one port and one died with EADDRINUSE (about one start in twenty). A reservation keeps its listening
 * socket until `release`, so no two reservations of one stack ever share a port; the window left is the few
 * milliseconds between `release` and the child's own bind, in which only a stranger asking the kernel for a
 * port at that instant could take it.
 */
export class PortReservations {
  readonly #held = new Map<number, Server>();

  /** A port nobody else (including every earlier reservation) holds, kept until released. */
  reserve(host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        this.#held.set(port, server);
        resolve(port);
      });
    });
  }

  /** Frees ports right before the process that binds them starts (ports not held are ignored). */
  async release(...ports: number[]): Promise<void> {
    await Promise.all(
      ports.map((port) => {
        const server = this.#held.get(port);
        this.#held.delete(port);
        return server ? new Promise<void>((r) => server.close(() => r())) : undefined;
      }),
    );
  }

  async releaseAll(): Promise<void> {
    await this.release(...this.#held.keys());
  }

  get heldPorts(): number[] {
    return [...this.#held.keys()];
  }
}

/** Fails fast with a plain sentence when a fixed port is taken (instead of a child's EADDRINUSE stack). */
export async function assertPortFree(
  port: number,
  host: string,
  purpose: string,
  setting: string,
): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
  if (!free)
    throw new Error(
      `Port ${port} (${purpose}) is already in use on ${host}. Stop what uses it, or choose another port with ${setting}=<port>.`,
    );
}

function indent(text: string): string {
  return text
    .split('\n')
    .slice(-15)
    .map((l) => `    ${l}`)
    .join('\n');
}

import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

import { bridgeError } from '../../core/errors';
import { currentOwner, ownerAlive, type ProcessOwner } from '../../core/process-alive';

interface LockInfo extends ProcessOwner {
  startedAt: string;
}

/**
 * One listener per spool: two processes forwarding the same files would race on every rename. The lock is a
 * file naming its owner (core/process-alive.ts: pid, host, boot id, process start time). It is stale (taken
 * over) when that process is gone — exited, a zombie not yet reaped, another process that got the pid after
 * a reboot or a wrap-around, a lock from an earlier boot — when it is this very pid (a container restarts as
 * pid 1 again), or when another host wrote it (a container restart gets a new host name; a spool shared
 * between machines is not supported). So the edge always comes back after a crash or a power cut without
 * anyone deleting a file (docs/design/custody-edge.md).
 *
 * On Linux the holder also listens on an abstract unix socket named after the spool's real path: a lock the
 * kernel itself releases when the holder dies (its descriptors close even before a zombie is reaped), which
 * needs no disk space — so a listener comes back on a FULL disk too, where writing the lock file fails with
 * ENOSPC (the file is then skipped: the socket decides). Elsewhere the file alone decides.
 */
/** Lock files held by this process: a pid check cannot tell two spools opened in one process apart. */
const heldHere = new Set<string>();

export class SpoolLock {
  readonly #path: string;
  #held = false;
  #socket: Server | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  async acquire(): Promise<void> {
    if (heldHere.has(this.#path))
      throw bridgeError('SPOOL_IN_USE', { detail: `already open in this process (${process.pid})` });
    this.#socket = await kernelLock(this.#path);
    try {
      this.#acquireFile(this.#socket !== undefined);
    } catch (e) {
      this.#socket?.close();
      this.#socket = undefined;
      throw e;
    }
    this.#held = true;
    heldHere.add(this.#path);
  }

  /** `socketHeld`: the kernel lock is ours, so a full disk (no room for the file) is no obstacle. */
  #acquireFile(socketHeld: boolean): void {
    const mine: LockInfo = { ...currentOwner(), startedAt: new Date().toISOString() };
    for (let tries = 0; tries < 2; tries++) {
      try {
        writeFileSync(this.#path, JSON.stringify(mine), { flag: 'wx', mode: 0o600 });
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (socketHeld && (code === 'ENOSPC' || code === 'EDQUOT')) return;
        if (code !== 'EEXIST') throw e;
      }
      // Even with the kernel lock ours, a file naming a live owner (an older version that only writes the
      // file) still counts: refusing then is the safe side.
      const other = this.#read();
      if (other && other.pid !== process.pid && ownerAlive(other)) {
        throw bridgeError('SPOOL_IN_USE', { detail: `process ${other.pid} since ${other.startedAt}` });
      }
      unlinkSync(this.#path);
    }
    throw bridgeError('SPOOL_IN_USE', { detail: 'lock file keeps reappearing' });
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    heldHere.delete(this.#path);
    this.#socket?.close();
    this.#socket = undefined;
    try {
      const current = this.#read();
      if (current?.pid === process.pid) unlinkSync(this.#path);
    } catch {
      // already gone
    }
  }

  #read(): LockInfo | undefined {
    try {
      const v = JSON.parse(readFileSync(this.#path, 'utf8')) as Partial<LockInfo>;
      return typeof v.pid === 'number' && typeof v.host === 'string'
        ? { ...v, pid: v.pid, host: v.host, startedAt: String(v.startedAt) }
        : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Listens on `\0smtp-graph-bridge-spool-<hash of the real path>` (Linux abstract namespace: no file, gone
 * with the process). Resolves with the server, throws SPOOL_IN_USE when another process listens there, and
 * resolves undefined where abstract sockets do not exist (the lock file decides alone).
 */
async function kernelLock(lockFile: string): Promise<Server | undefined> {
  if (process.platform !== 'linux') return undefined;
  let real: string;
  try {
    real = realpathSync(join(lockFile, '..'));
  } catch {
    real = lockFile;
  }
  const name = `\0smtp-graph-bridge-spool-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
  const server = createServer();
  return new Promise<Server | undefined>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE')
        reject(bridgeError('SPOOL_IN_USE', { detail: 'another process holds the spool (kernel lock)' }));
      else resolve(undefined); // no abstract sockets here (a sandbox, an unusual kernel): the file decides
    });
    server.listen({ path: name }, () => {
      server.unref(); // holding the lock must not keep the process alive
      resolve(server);
    });
  });
}

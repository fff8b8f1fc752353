import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

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
 */
/** Lock files held by this process: a pid check cannot tell two spools opened in one process apart. */
const heldHere = new Set<string>();

export class SpoolLock {
  readonly #path: string;
  #held = false;

  constructor(path: string) {
    this.#path = path;
  }

  acquire(): void {
    if (heldHere.has(this.#path))
      throw bridgeError('SPOOL_IN_USE', { detail: `already open in this process (${process.pid})` });
    const mine: LockInfo = { ...currentOwner(), startedAt: new Date().toISOString() };
    for (let tries = 0; tries < 2; tries++) {
      try {
        writeFileSync(this.#path, JSON.stringify(mine), { flag: 'wx', mode: 0o600 });
        this.#held = true;
        heldHere.add(this.#path);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
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

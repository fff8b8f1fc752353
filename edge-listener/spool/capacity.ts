import { statfs } from 'node:fs/promises';

import { type BridgeError, bridgeError } from '../../core/errors';

/**
 * Spool quota and free disk space. The spool refuses a message (452 SPOOL_FULL, the device retries later)
 * before it could fill the disk: when the messages held plus the ones being received would pass the quota,
 * or when the free space would drop under the reserve. Free space comes from statfs, cached for a second;
 * ENOSPC during a write is the backstop.
 */
export class SpoolCapacity {
  readonly #dir: string;
  readonly maxBytes: number;
  readonly #minFreeBytes: number;
  #storedBytes = 0;
  #receivingBytes = 0;
  #freeBytes = Number.POSITIVE_INFINITY;
  #freeCheckedAt = 0;

  constructor(dir: string, maxBytes: number, minFreeBytes: number) {
    this.#dir = dir;
    this.maxBytes = maxBytes;
    this.#minFreeBytes = minFreeBytes;
  }

  get usedBytes(): number {
    return this.#storedBytes + this.#receivingBytes;
  }

  stored(delta: number): void {
    this.#storedBytes = Math.max(0, this.#storedBytes + delta);
  }

  receiving(delta: number): void {
    this.#receivingBytes = Math.max(0, this.#receivingBytes + delta);
  }

  /** Re-reads free space when the cached value is older than a second. */
  async refresh(now = Date.now()): Promise<void> {
    if (now - this.#freeCheckedAt < 1000) return;
    this.#freeCheckedAt = now;
    try {
      const s = await statfs(this.#dir);
      this.#freeBytes = s.bavail * s.bsize;
    } catch {
      // statfs is missing on some platforms: the quota and ENOSPC still protect the disk
      this.#freeBytes = Number.POSITIVE_INFINITY;
    }
  }

  /** SPOOL_FULL when `extraBytes` more would pass the quota or the free-space reserve, else undefined. */
  problem(extraBytes = 0): BridgeError | undefined {
    if (this.usedBytes + extraBytes > this.maxBytes) {
      return bridgeError('SPOOL_FULL', { detail: 'spool quota reached' });
    }
    if (this.#freeBytes - this.#receivingBytes - extraBytes < this.#minFreeBytes) {
      return bridgeError('SPOOL_FULL', { detail: 'disk space low' });
    }
    return undefined;
  }
}

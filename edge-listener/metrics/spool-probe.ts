import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface SpoolProbeResult {
  writable: boolean;
  checkedAt: string;
  /** errno code of the failure (EACCES, ENOSPC, EROFS …), never a path with user data. */
  error?: string;
}

/** A failed probe is repeated at most this often; a passing one is trusted for the same time. */
const CACHE_MS = 2_000;

/**
 * Proves the spool can take a message right now: create, write, fsync and remove a small file in the
 * spool's tmp/ directory — the same operations a message needs. A disk that went read-only, lost
 * permissions or is full shows here before the first device gets a 451. Leftovers (a crash between write
 * and unlink) are in tmp/, which the spool empties at start.
 */
export class SpoolProbe {
  readonly #tmpDir: string;
  #last: { atMs: number; result: SpoolProbeResult } | undefined;
  #running: Promise<SpoolProbeResult> | undefined;

  constructor(tmpDir: string) {
    this.#tmpDir = tmpDir;
  }

  async check(nowMs = Date.now()): Promise<SpoolProbeResult> {
    if (this.#last && nowMs - this.#last.atMs < CACHE_MS) return this.#last.result;
    this.#running ??= this.#probe().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #probe(): Promise<SpoolProbeResult> {
    const path = join(this.#tmpDir, `healthz-probe.${process.pid}`);
    const checkedAt = new Date().toISOString();
    let result: SpoolProbeResult;
    try {
      const handle = await open(path, 'w', 0o600);
      try {
        await handle.writeFile('probe');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await unlink(path);
      result = { writable: true, checkedAt };
    } catch (e) {
      result = { writable: false, checkedAt, error: (e as NodeJS.ErrnoException).code ?? 'EIO' };
    }
    this.#last = { atMs: Date.now(), result };
    return result;
  }
}

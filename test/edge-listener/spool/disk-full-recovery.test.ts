import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { Spool } from '../../../edge-listener/spool/spool';

/**
 * Found by the soak (bench/soak): once the spool saw "disk space low", MAIL FROM kept answering 452
 * SPOOL_FULL after the disk had freed up, because only DATA re-read the free space — and DATA never came.
 * A real small file system (tmpfs, mounted as root) is filled and emptied again.
 */
let mountPoint: string | undefined;
const root = mkdtempSync(join(tmpdir(), 'disk-full-recovery-'));

beforeAll(() => {
  if (process.getuid?.() !== 0) return;
  const mp = join(root, 'fs');
  mkdirSync(mp);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mp]);
    mountPoint = mp;
  } catch {
    mountPoint = undefined;
  }
});

afterAll(() => {
  if (mountPoint) execFileSync('umount', [mountPoint]);
  rmSync(root, { recursive: true, force: true });
});

describe.runIf(process.getuid?.() === 0)('spool capacity after a disk-full episode', () => {
  it('takes mail again within a few seconds once space is free, asked only at MAIL FROM', async () => {
    expect(mountPoint, 'tmpfs mount (root) failed').toBeDefined();
    const dataDir = join(mountPoint!, 'data');
    const spool = await Spool.open({
      dataDir,
      instanceId: 'df',
      maxBytes: 1e9,
      minFreeBytes: 512 * 1024,
      keepDone: 10,
      keepDoneMs: 60_000,
      logger: memoryLogger(),
    });
    try {
      expect(spool.capacityProblem()).toBeUndefined();
      const s = await statfs(mountPoint!);
      const filler = join(mountPoint!, 'filler');
      writeFileSync(filler, Buffer.alloc(s.bavail * s.bsize - 64 * 1024));
      await expect
        .poll(() => spool.capacityProblem()?.code, { timeout: 5000, interval: 300 })
        .toBe('SPOOL_FULL');
      rmSync(filler);
      await expect.poll(() => spool.capacityProblem(), { timeout: 5000, interval: 300 }).toBeUndefined();
    } finally {
      await spool.close();
    }
  });
});

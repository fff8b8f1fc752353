import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { ownerAlive, ownerOf, readBootId, readStat } from '../../../core/process-alive';
import { spoolLayout } from '../../../edge-listener/spool/layout';
import { Spool } from '../../../edge-listener/spool/spool';

/**
 * "Is my predecessor alive?" must not be fooled by a pid alone (issue 9, docs/design/custody-edge.md): a lock
 * naming a live unrelated process (pid reused after a reboot), a zombie holder (SIGKILLed, not reaped yet)
 * and a lock from another boot are all stale, and the edge opens its spool over them; a lock whose holder
 * really runs still refuses.
 */
const linux = readStat(process.pid) !== undefined;
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function spawnSleeper(script = 'exec sleep 60'): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    if (script.includes('echo'))
      child.stdout!.once('data', (d: Buffer) => resolve({ child, firstLine: d.toString().trim() }));
    else child.once('spawn', () => resolve({ child, firstLine: '' }));
  });
}

function writeLock(dataDir: string, content: object): void {
  writeFileSync(
    spoolLayout(dataDir).lockFile,
    JSON.stringify({ startedAt: '2026-01-01T00:00:00Z', ...content }),
  );
}

async function openOver(dataDir: string): Promise<Spool> {
  return Spool.open({
    dataDir,
    instanceId: 'lock',
    maxBytes: 1e9,
    minFreeBytes: 0,
    keepDone: 10,
    keepDoneMs: 60_000,
    logger: memoryLogger(),
  });
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spool-lock-'));
  dirs.push(d);
  mkdirSync(spoolLayout(d).root, { recursive: true });
  return d;
}

describe.runIf(linux)('spool lock after a crash (Linux /proc)', () => {
  it('refuses while the process the lock names really runs', async () => {
    const { child } = await spawnSleeper();
    const dataDir = tempDir();
    writeLock(dataDir, ownerOf(child.pid!));
    expect(ownerAlive(ownerOf(child.pid!))).toBe(true);
    await expect(openOver(dataDir)).rejects.toMatchObject({ code: 'SPOOL_IN_USE' });
  });

  it('takes over a lock whose pid now belongs to an unrelated live process (other start time)', async () => {
    const { child } = await spawnSleeper();
    const dataDir = tempDir();
    const real = ownerOf(child.pid!);
    writeLock(dataDir, { ...real, startTicks: real.startTicks! - 1 });
    const spool = await openOver(dataDir);
    const lock = JSON.parse(readFileSync(spoolLayout(dataDir).lockFile, 'utf8')) as { pid: number };
    expect(lock.pid).toBe(process.pid);
    await spool.close();
  });

  it('takes over a lock held by a zombie (killed, not yet reaped)', async () => {
    // a short `sleep` in the background of a shell that then becomes `sleep 60`, which never reaps it: once
    // the short one ends (after the exec), it stays a zombie
    const { firstLine } = await spawnSleeper('sleep 0.3 & echo $!; exec sleep 60');
    const zombie = Number(firstLine);
    await expect.poll(() => readStat(zombie)?.state, { timeout: 5000 }).toBe('Z');
    const dataDir = tempDir();
    writeLock(dataDir, {
      pid: zombie,
      host: hostname(),
      bootId: readBootId(),
      startTicks: readStat(zombie)!.startTicks,
    });
    const spool = await openOver(dataDir);
    await spool.close();
  });

  it('takes over a lock written in another boot, even when its pid runs now', async () => {
    const { child } = await spawnSleeper();
    const dataDir = tempDir();
    writeLock(dataDir, { ...ownerOf(child.pid!), bootId: '00000000-0000-4000-8000-000000000000' });
    const spool = await openOver(dataDir);
    await spool.close();
  });

  it('takes over a lock of a process that is gone, and an old lock without start time still protects a live pid', async () => {
    const dataDir = tempDir();
    const { child } = await spawnSleeper();
    const pid = child.pid!;
    writeLock(dataDir, { pid, host: hostname() }); // written by an older version: pid and host only
    await expect(openOver(dataDir)).rejects.toMatchObject({ code: 'SPOOL_IN_USE' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await expect.poll(() => readStat(pid), { timeout: 5000 }).toBeUndefined();
    const spool = await openOver(dataDir);
    await spool.close();
  });
});

describe.runIf(process.platform === 'linux')('spool lock held by the kernel', () => {
  it('refuses a second open of the same spool from another process, and frees it when that process is SIGKILLed', async () => {
    const dataDir = tempDir();
    const script = `
      const { Spool } = require(${JSON.stringify(join(process.cwd(), 'edge-listener/spool/spool.ts'))});
      const { memoryLogger } = require(${JSON.stringify(join(process.cwd(), 'core/log.ts'))});
      Spool.open({ dataDir: ${JSON.stringify(dataDir)}, instanceId: 'holder', maxBytes: 1e9, minFreeBytes: 0,
        keepDone: 1, keepDoneMs: 1000, logger: memoryLogger() }).then(() => { console.log('held'); setInterval(() => {}, 1000); });`;
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(holder);
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    // the lock file is gone (as if the disk had no room for it): the kernel lock alone still refuses
    rmSync(spoolLayout(dataDir).lockFile, { force: true });
    await expect(openOver(dataDir)).rejects.toMatchObject({ code: 'SPOOL_IN_USE' });
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    const spool = await openOver(dataDir);
    await spool.close();
  }, 60_000);
});

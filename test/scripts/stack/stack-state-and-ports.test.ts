import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { currentOwner, ownerOf, readStat } from '../../../core/process-alive';
import { PortReservations } from '../../../scripts/stack/readiness';
import { runningStackPid, type StackState, writeStackState } from '../../../scripts/stack/stack-state';

const dirs: string[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function state(owner: Partial<StackState>): StackState {
  return {
    pid: 1,
    host: 'x',
    startedAt: new Date().toISOString(),
    mode: 'sandbox',
    smtp: { host: '127.0.0.1', port: 2525 },
    statusUrl: 'http://127.0.0.1:8025/',
    functionUrl: 'http://127.0.0.1:7071',
    adminTokenFile: '/nonexistent',
    children: [],
    ...owner,
  } as StackState;
}

describe.runIf(readStat(process.pid) !== undefined)('npm start: is the previous stack alive?', () => {
  it('a state file naming a live process that started at another time (pid reused) is not a running stack', async () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanups.push(() => child.kill('SIGKILL'));
    await new Promise((r) => child.once('spawn', r));
    const dir = mkdtempSync(join(tmpdir(), 'stack-state-'));
    dirs.push(dir);
    const real = ownerOf(child.pid!);
    writeStackState(dir, state(real));
    expect(runningStackPid(dir)).toBe(child.pid);
    writeStackState(dir, state({ ...real, startTicks: real.startTicks! + 7 }));
    expect(runningStackPid(dir)).toBeUndefined();
    writeStackState(dir, state({ ...real, bootId: 'another-boot' }));
    expect(runningStackPid(dir)).toBeUndefined();
    writeStackState(dir, state(currentOwner()));
    expect(runningStackPid(dir)).toBeUndefined(); // its own file
  });
});

describe('npm start port reservations', () => {
  it('never hands out one port twice while held, blocks others from binding it, frees it on release', async () => {
    const ports = new PortReservations();
    cleanups.push(() => void ports.releaseAll());
    const got: number[] = [];
    for (let i = 0; i < 60; i++) got.push(await ports.reserve());
    expect(new Set(got).size).toBe(got.length);
    const bind = (port: number) =>
      new Promise<string>((resolve) => {
        const s = createServer();
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        s.listen(port, '127.0.0.1', () => s.close(() => resolve('bound')));
      });
    expect(await bind(got[0]!)).toBe('EADDRINUSE');
    await ports.release(got[0]!);
    expect(await bind(got[0]!)).toBe('bound');
    expect(ports.heldPorts).toHaveLength(59);
    await ports.releaseAll();
    expect(ports.heldPorts).toHaveLength(0);
  });
});

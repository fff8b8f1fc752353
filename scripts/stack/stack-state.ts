import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { StackMode } from './stack-config';
import { ownerAlive, type ProcessOwner } from '../../core/process-alive';

/**
 * BRIDGE_DATA_DIR/stack.json while a stack runs: what listens where and which processes belong to it. It
 * stops a second `npm start` on the same data directory early (the spool and Azurite could not share it),
 * and lets tools (doctor, the end-to-end tests) find the running stack. No secrets in it.
 */
export interface StackState extends ProcessOwner {
  startedAt: string;
  mode: StackMode;
  smtp: { host: string; port: number };
  statusUrl: string;
  functionUrl: string;
  sandboxUrl?: string;
  /** CA certificate that verifies the sandbox (sandbox mode). */
  sandboxCaFile?: string;
  adminTokenFile: string;
  /** Each child as core/process-alive.ts names it (pid + start time + boot), so a reused pid is not "alive". */
  children: Array<{ name: string } & ProcessOwner>;
}

export const stackStatePath = (dataDir: string) => join(dataDir, 'stack.json');

export function readStackState(dataDir: string): StackState | undefined {
  try {
    return JSON.parse(readFileSync(stackStatePath(dataDir), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

/**
 * The pid of another stack that still runs on this data directory, if any: the process the file names, not
 * merely one with its pid (after a reboot or a SIGKILL that pid may be an unrelated process or a zombie).
 */
export function runningStackPid(dataDir: string): number | undefined {
  const state = readStackState(dataDir);
  if (!state || state.pid === process.pid) return undefined;
  return ownerAlive(state) ? state.pid : undefined;
}

export function writeStackState(dataDir: string, state: StackState): void {
  writeFileSync(stackStatePath(dataDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
}

export function removeStackState(dataDir: string): void {
  rmSync(stackStatePath(dataDir), { force: true });
}

/**
 * Waits for the children of a previous stack that died without cleaning up (killed, crashed) to finish their
 * own shutdown: they stop themselves when their parent goes (exit-with-parent.cjs), but the edge drains its
 * sessions first, and until then it still holds the SMTP and HTTP ports and the spool lock.
 */
export async function waitForLeftoverChildren(dataDir: string, timeoutMs: number): Promise<void> {
  const state = readStackState(dataDir);
  const deadline = Date.now() + timeoutMs;
  let alive = (state?.children ?? []).filter((c) => ownerAlive(c));
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    alive = alive.filter((c) => ownerAlive(c));
  }
  if (alive.length > 0) {
    const list = alive.map((c) => `${c.name} (pid ${c.pid})`).join(', ');
    throw new Error(
      `Processes of a previous \`npm start\` on ${dataDir} are still running: ${list}. Stop them, then start again.`,
    );
  }
}

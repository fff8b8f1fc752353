import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * "Is the process that wrote this file still the one running?" for lock files and state files that name
 * their owner (the spool lock, the CLI's admin endpoint, `npm start`'s stack state).
 *
 * A bare pid is not enough (docs/design/custody-edge.md): after a power cut and a reboot the pid may belong
 * to an unrelated process, and right after a SIGKILL it may be an unreaped zombie; either would keep the
 * site's mail service from starting until someone deletes a file. So an owner record carries, besides the
 * pid and host, the kernel's boot id and the process's start time (field 22 of /proc/<pid>/stat, clock
 * ticks since boot). Together they name one process for the lifetime of the machine. Where /proc is missing
 * (macOS, Windows) only the pid check is left, which is what these files did before.
 */
export interface ProcessOwner {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id of the boot the owner ran in (Linux). */
  bootId?: string;
  /** Start time of the owner in clock ticks since boot (Linux /proc/<pid>/stat field 22). */
  startTicks?: number;
}

/** Whether a process with this id exists (signal 0 checks without signalling; EPERM: exists, other user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The record naming this very process, to write into a lock or state file. */
export function currentOwner(): ProcessOwner {
  return ownerOf(process.pid);
}

/** The record naming process `pid` as it runs now (for a child a parent writes down). */
export function ownerOf(pid: number): ProcessOwner {
  const owner: ProcessOwner = { pid, host: hostname() };
  const bootId = readBootId();
  const stat = readStat(pid);
  if (bootId) owner.bootId = bootId;
  if (stat) owner.startTicks = stat.startTicks;
  return owner;
}

/**
 * Whether the owner named by a record still runs: same host, same boot, a live (not zombie) process with
 * that pid that started when the record says. Fields the record lacks (older files, no /proc) are not
 * compared; a record from another host counts as gone (a container restart gets a new host name).
 */
export function ownerAlive(owner: Partial<ProcessOwner> & { pid: number }): boolean {
  if (owner.host !== undefined && owner.host !== hostname()) return false;
  const bootId = readBootId();
  if (owner.bootId && bootId && owner.bootId !== bootId) return false;
  const stat = readStat(owner.pid);
  if (stat) {
    // Z: exited, not yet reaped by its parent; X: being removed. Neither holds anything any more.
    if (stat.state === 'Z' || stat.state === 'X') return false;
    return owner.startTicks === undefined || owner.startTicks === stat.startTicks;
  }
  if (procAvailable()) return false; // /proc works and has no such process
  return processAlive(owner.pid);
}

interface ProcStat {
  state: string;
  startTicks: number;
}

/** Fields of /proc/<pid>/stat; the command name (field 2) is in parentheses and may contain spaces. */
export function readStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // after ") ": field 3 (state) is index 0, so field 22 (starttime) is index 19
  const rest = text.slice(close + 2).split(' ');
  const startTicks = Number(rest[19]);
  if (!rest[0] || !Number.isFinite(startTicks)) return undefined;
  return { state: rest[0], startTicks };
}

let bootIdCache: string | null | undefined;

export function readBootId(): string | undefined {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache ?? undefined;
}

function procAvailable(): boolean {
  return readStat(process.pid) !== undefined;
}

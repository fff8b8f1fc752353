/**
 * Whether a process with this id exists on this machine (signal 0 checks without signalling). EPERM means it
 * exists but belongs to another user. Used for lock files and state files that name the process owning them.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

import { LogTail } from './log-tail';

/**
 * One process of the local stack: a Node script started as `node [--import tsx] --require preload script` in
 * its own process group, its output written straight into its log file (followed for the console through
 * `onLine`, see log-tail.ts for why not a pipe), and a stop that takes the whole group down — SIGTERM first
 * so it shuts down cleanly, SIGKILL after a grace period — so no grandchild is left behind holding a port.
 */
export interface ChildSpec {
  name: string;
  /** Script path (TypeScript or JavaScript). */
  script: string;
  args?: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** File the output (stdout and stderr) is appended to. */
  logFile: string;
  /** Called for each output line. */
  onLine?: (line: string) => void;
}

export interface ChildExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const PRELOAD = join(__dirname, 'exit-with-parent.cjs');
const TAIL_LINES = 40;

export class ManagedChild {
  readonly name: string;
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<ChildExit>;
  readonly #child: ChildProcess;
  /** The last lines of output (filled by the log tail). */
  readonly #recent: string[];
  #stopping = false;

  private constructor(spec: ChildSpec, child: ChildProcess, tail: LogTail, recent: string[]) {
    this.name = spec.name;
    this.#recent = recent;
    this.#child = child;
    if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${process.execPath}`);
    this.pid = child.pid;
    this.exited = new Promise<ChildExit>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ name: spec.name, code, signal }));
    }).finally(() => tail.stop());
  }

  static start(spec: ChildSpec): ManagedChild {
    // TypeScript sources run through tsx's loader (no build step, no global install); JavaScript runs as is.
    const loader = spec.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const fd = openSync(spec.logFile, 'a', 0o600);
    const recent: string[] = [];
    const tail = new LogTail(spec.logFile, (line) => {
      recent.push(line);
      if (recent.length > TAIL_LINES) recent.shift();
      spec.onLine?.(line);
    });
    try {
      const child = spawn(
        process.execPath,
        [...loader, '--require', PRELOAD, spec.script, ...(spec.args ?? [])],
        {
          cwd: spec.cwd,
          env: spec.env,
          // Own process group: Ctrl-C reaches only the stack, which stops the children in order.
          detached: true,
          stdio: ['ignore', fd, fd, 'ipc'],
        },
      );
      // The IPC channel exists only so the child notices when the stack dies (exit-with-parent.cjs).
      child.channel?.unref();
      return new ManagedChild(spec, child, tail, recent);
    } catch (e) {
      tail.stop();
      throw e;
    } finally {
      closeSync(fd); // the child has its own copy
    }
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** True once stop() was called: an exit after that is expected. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The last lines of output, for error messages. */
  recentOutput(): string {
    return this.#recent.join('\n');
  }

  /** SIGTERM to the process group, SIGKILL to the group after `graceMs`; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (!this.running) {
      this.#signalGroup('SIGKILL'); // the leader is gone; make sure nothing of its group stays
      return;
    }
    this.#signalGroup('SIGTERM');
    this.#signalGroup('SIGCONT'); // a stopped process only sees SIGTERM once it runs again
    const timer = setTimeout(() => this.#signalGroup('SIGKILL'), graceMs);
    try {
      await this.exited.catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
    this.#signalGroup('SIGKILL');
  }

  /** Immediate SIGKILL of the group (a second Ctrl-C). */
  kill(): void {
    this.#stopping = true;
    this.#signalGroup('SIGKILL');
  }

  #signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone
    }
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * One process of the local stack: a Node script started as `node --import tsx [preload] script args` in
 * its own process group, its output split into lines (kept in a log file, shown through `onLine`), and a
 * stop that takes the whole group down — SIGTERM first so it shuts down cleanly, SIGKILL after a grace
 * period — so no grandchild is left behind holding a port.
 */
export interface ChildSpec {
  name: string;
  /** Script path (TypeScript or JavaScript). */
  script: string;
  args?: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** File the raw output is appended to. */
  logFile: string;
  /** Called for each output line (stdout and stderr alike). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ChildExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const PRELOAD = join(__dirname, 'exit-with-parent.ts');
const TAIL_LINES = 40;

export class ManagedChild {
  readonly name: string;
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<ChildExit>;
  readonly #child: ChildProcess;
  readonly #tail: string[] = [];
  readonly #log: WriteStream;
  #stopping = false;

  private constructor(spec: ChildSpec, child: ChildProcess) {
    this.name = spec.name;
    this.#child = child;
    if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${process.execPath}`);
    this.pid = child.pid;
    this.#log = createWriteStream(spec.logFile, { flags: 'a', mode: 0o600 });
    const exitedEarly = new Promise<never>((_, reject) => child.once('error', reject));
    this.exited = Promise.race([
      new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ name: spec.name, code, signal }))),
      exitedEarly,
    ]).finally(() => this.#log.end());
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => {
        this.#log.write(`${line}\n`);
        this.#tail.push(line);
        if (this.#tail.length > TAIL_LINES) this.#tail.shift();
        spec.onLine?.(line, stream);
      });
    }
  }

  static start(spec: ChildSpec): ManagedChild {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', PRELOAD, spec.script, ...(spec.args ?? [])], {
      cwd: spec.cwd,
      env: spec.env,
      // Own process group: Ctrl-C reaches only the stack, which stops the children in order.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // The IPC channel exists only so the child notices when the stack dies (exit-with-parent.ts).
    child.channel?.unref();
    return new ManagedChild(spec, child);
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
    return this.#tail.join('\n');
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

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { childProcessEnv } from '../../helpers/edge-env';

const ROOT = join(__dirname, '..', '..', '..');

export interface EdgeProcess {
  proc: ChildProcess;
  smtpPort: number;
  httpPort: number;
  /** Parsed JSON log lines so far. */
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  waitForLine(
    pred: (l: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGKILL: no cleanup of any kind, like a power cut for the process. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs edge-listener/main.ts as a real child process (node --import tsx, so a kill hits the listener itself
 * and not a wrapper), with the given environment; resolves once it logged HOST_STARTED.
 */
export async function spawnEdge(env: Record<string, string>, args: string[] = []): Promise<EdgeProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'edge-listener', 'main.ts'), ...args], {
    cwd: ROOT,
    env: childProcessEnv({ BRIDGE_LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  let waiters: Array<() => void> = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ raw: line });
    }
    wake();
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    stderr.push(line);
    wake();
  });
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      exited = true;
      wake();
      resolve(code);
    }),
  );

  const waitForLine = async (pred: (l: Record<string, unknown>) => boolean, timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(pred);
      if (found) return found;
      if (exited) throw new Error(`edge process exited; stderr:\n${stderr.join('\n')}`);
      if (Date.now() > end)
        throw new Error(
          `edge process: no matching log line in ${timeoutMs} ms; stderr:\n${stderr.join('\n')}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };
  const started = await waitForLine((l) => l.event === 'HOST_STARTED' && typeof l.smtpPort === 'number');
  return {
    proc,
    smtpPort: Number(started.smtpPort),
    httpPort: Number(started.httpPort),
    lines,
    stderr,
    waitForLine,
    kill: async () => {
      if (!exited) proc.kill('SIGKILL');
      await exit;
    },
    stop: async () => {
      if (!exited) proc.kill('SIGTERM');
      return exit;
    },
  };
}

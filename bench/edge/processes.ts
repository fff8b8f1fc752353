import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';

/** Child processes of the benchmark and what /proc says about them (Linux only, like the build machines). */

export interface Started {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

export function startProcess(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; logFile?: string } = {},
): Started {
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    stdio: ['ignore', out === 'ignore' ? 'pipe' : out, out === 'ignore' ? 'pipe' : out],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The first JSON line a helper prints on stdout ({"port":…}). */
export function firstJsonLine(child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before printing its port`)));
  });
}

export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const CLOCK_TICKS_PER_S = 100; // getconf CLK_TCK on Linux

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/**
 * CPU seconds of a process and every descendant, for servers that fork (Postfix's master and its daemons):
 * live processes count their own time, and the time of exited ones is in their parent's cutime/cstime.
 */
export function cpuSecondsTree(root: number): number {
  const stats = new Map<number, string[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      stats.set(Number(name), stat.slice(stat.lastIndexOf(')') + 2).split(' '));
    } catch {
      // exited while we looked
    }
  }
  let ticks = 0;
  const visit = (pid: number) => {
    const f = stats.get(pid);
    if (!f) return;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    for (const [child, cf] of stats) if (Number(cf[1]) === pid) visit(child);
  };
  visit(root);
  return ticks / CLOCK_TICKS_PER_S;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * Postfix's smtp-source: `-s` sessions in parallel, `-m` messages in all, `-l` bytes each; a new connection per
 * message; every message from `from` (envelope and From header).
 */
export function smtpSource(
  port: number,
  sessions: number,
  messages: number,
  sizeBytes: number,
  from = 'scanner@example.com',
): Promise<{ seconds: number; errors: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      '/usr/sbin/smtp-source',
      [
        '-s',
        String(sessions),
        '-m',
        String(messages),
        '-l',
        String(sizeBytes),
        '-f',
        from,
        '-t',
        'user@example.com',
        `127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (errors += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) errors += `smtp-source exited with ${code}`;
      resolve({ seconds, errors: errors.trim() });
    });
  });
}

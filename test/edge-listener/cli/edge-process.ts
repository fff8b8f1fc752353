import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { childProcessEnv, edgeEnv, type FunctionTarget } from '../../helpers/edge-env';

/**
 * Test kit for the operations tests: the CLI run as a child process the way an operator runs it
 * (`node --import tsx edge-listener/cli/main.ts …`), in front of a FakeFunction (test/helpers/fake-function.ts).
 */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const CLI_ENTRY = join(REPO_ROOT, 'edge-listener', 'cli', 'main.ts');

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'edge-ops-'));
}

/**
 * Settings of a listener the CLI runs as a child process (edgeEnv, plus PATH and the run's test CA): a retry
 * schedule of an hour, so only the test's own commands move a waiting message.
 */
export function opsEdgeEnv(
  target: FunctionTarget,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return childProcessEnv(
    edgeEnv(target, dataDir, { BRIDGE_INSTANCE_ID: 'ops-test', BRIDGE_RETRY_SCHEDULE: '1h', ...extra }),
  );
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  env: Record<string, string>,
  cliEntry: string[] = ['--import', 'tsx', CLI_ENTRY],
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliEntry, ...args], {
      env,
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface RunningEdge {
  child: ChildProcess;
  smtpPort: number;
  httpPort: number;
  /** Every stdout line so far, parsed (the listener logs JSON lines). */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/** `start` as a child process; resolves once HOST_STARTED names the bound ports. */
export function startEdge(
  env: Record<string, string>,
  cliEntry: string[] = ['--import', 'tsx', CLI_ENTRY],
): Promise<RunningEdge> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliEntry, 'start'], {
      env,
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: Array<Record<string, unknown>> = [];
    let buffered = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      buffered += c;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as Record<string, unknown>;
          logs.push(rec);
          if (rec.event === 'HOST_STARTED' && typeof rec.smtpPort === 'number') {
            resolve({
              child,
              smtpPort: rec.smtpPort,
              httpPort: rec.httpPort as number,
              logs,
              stop: async () => {
                if (child.exitCode === null) child.kill('SIGTERM');
                return exited;
              },
            });
          }
        } catch {
          // not a log line
        }
      }
    });
    void exited.then((code) => reject(new Error(`listener exited with ${code} before starting: ${stderr}`)));
  });
}

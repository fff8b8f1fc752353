import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';

import { readStackState, type StackState } from '../../scripts/stack/stack-state';

/**
 * `npm start` as the end-to-end tests run it: the same script npm runs (package.json "start"), as a child
 * process with its own data directory and ports, its output captured, stopped with the signal Ctrl-C sends.
 */
export const REPO_ROOT = join(__dirname, '..', '..');

export interface StackProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  state: StackState;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The environment of a stack under test: no Microsoft 365 credentials (sandbox mode), the given settings. */
export function stackEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('AZURE_') && !k.startsWith('BRIDGE_')) env[k] = v;
  return { ...env, ...settings };
}

export async function startStackProcess(
  dataDir: string,
  env: Record<string, string>,
  readyTimeoutMs = 90_000,
): Promise<StackProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'start-stack.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + readyTimeoutMs;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGINT');
      throw new Error(`npm start did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const state = readStackState(dataDir);
  if (!state) throw new Error(`no stack.json in ${dataDir}`);
  return {
    child,
    output: () => output,
    state,
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

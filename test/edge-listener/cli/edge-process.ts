import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { WIRE_HEADERS, WIRE_PATH } from '../../../core/wire';

/**
 * Test kit for the operations tests: a stand-in for the function (a real HTTP server on 127.0.0.1 that
 * answers the wire contract: sent, unavailable or rejected), and the CLI run as a child process the way an
 * operator runs it (`node --import tsx edge-listener/cli/main.ts …`).
 */
export type FunctionMode = 'sent' | 'unavailable' | 'reject';

export interface FakeFunction {
  url: string;
  mode: FunctionMode;
  received: string[];
  close(): Promise<void>;
}

export async function startFakeFunction(mode: FunctionMode = 'sent'): Promise<FakeFunction> {
  const fake: FakeFunction = { url: '', mode, received: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const id = String(req.headers[WIRE_HEADERS.messageId] ?? '');
    req.resume();
    req.on('end', () => {
      if (req.url !== WIRE_PATH || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      fake.received.push(id);
      const [status, body] =
        fake.mode === 'sent'
          ? [200, { id, state: 'sent', sender: 'scanner@contoso.example', graphRequestId: 'req-1' }]
          : fake.mode === 'reject'
            ? [
                422,
                {
                  id,
                  state: 'failed',
                  error: {
                    code: 'SENDER_NOT_ALLOWED',
                    message: 'Sender not allowed',
                    smtp: { reply: 550, enhanced: '5.7.1' },
                    retryable: false,
                    hint: 'h',
                  },
                },
              ]
            : [503, { error: 'down' }];
      const text = JSON.stringify(body);
      res
        .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        .end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const CLI_ENTRY = join(REPO_ROOT, 'edge-listener', 'cli', 'main.ts');

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'edge-ops-'));
}

/** Environment for a listener on ephemeral ports with a fast retry schedule. */
export function edgeEnv(
  dataDir: string,
  functionUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    BRIDGE_SITE_ID: 'test-site',
    BRIDGE_FUNCTION_URL: functionUrl,
    BRIDGE_SITE_SECRET: 'test-site-secret-0123456789',
    BRIDGE_INSTANCE_ID: 'ops-test',
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_SMTP_HOST: '127.0.0.1',
    BRIDGE_SMTP_PORT: '0',
    BRIDGE_HTTP_PORT: '0',
    BRIDGE_FORWARD_BUDGET_MS: '2000',
    BRIDGE_RETRY_SCHEDULE: '1h',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '2000',
    ...extra,
  };
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

import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sendJson } from '../../edge-listener/http/router';
import { FakeFunction } from '../helpers/fake-function';
import { startTestEdge, type TestEdge } from './helpers/edge-harness';
import { openSession } from './helpers/raw-smtp';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

let fn: FakeFunction;
let edge: TestEdge;

beforeAll(async () => {
  fn = await FakeFunction.start();
  // no certificate configured: the listener makes its own self-signed one under BRIDGE_DATA_DIR/tls
  edge = await startTestEdge(fn, {
    BRIDGE_TLS_CERT_FILE: '',
    BRIDGE_TLS_KEY_FILE: '',
    BRIDGE_SMTP_HOSTNAME: 'mfp-relay.example.lan',
  });
});
afterAll(async () => {
  await edge?.cleanup();
  await fn?.close();
});

describe('edge listener process and HTTP seam', () => {
  it('serves /healthz with spool numbers and 404 for unknown paths', async () => {
    const health = await fetch(`http://127.0.0.1:${edge.listener.httpPort}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as {
      status: string;
      smtp: { listening: boolean };
      spool: { depth: Record<string, number> };
    };
    expect(body).toMatchObject({ status: 'ok', smtp: { listening: true }, spool: { depth: { queued: 0 } } });
    expect((await fetch(`http://127.0.0.1:${edge.listener.httpPort}/nope`)).status).toBe(404);
  });

  it('lets other modules add routes to the same HTTP server', async () => {
    edge.listener.router.add('GET', '/x-test', (_req, res) =>
      sendJson(res, 200, { connections: edge.listener.smtpConnections() }),
    );
    const r = await fetch(`http://127.0.0.1:${edge.listener.httpPort}/x-test`);
    expect(await r.json()).toEqual({ connections: 0 });
    expect(
      (await fetch(`http://127.0.0.1:${edge.listener.httpPort}/x-test`, { method: 'POST' })).status,
    ).toBe(405);
  });

  it('offers STARTTLS with a generated self-signed certificate for its host name', async () => {
    const cert = new X509Certificate(readFileSync(join(edge.dataDir, 'tls', 'cert.pem')));
    expect(cert.subjectAltName).toContain('mfp-relay.example.lan');
    const c = await openSession(edge.listener.smtpPort);
    expect((await c.command('STARTTLS')).code).toBe(220);
    await c.startTls({ servername: 'mfp-relay.example.lan' });
    expect((await c.command('EHLO secure')).code).toBe(250);
    c.destroy();
  });

  it('main.ts --help lists every setting with its description', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'edge-listener/main.ts', '--help'], {
      cwd: ROOT,
    });
    expect(stdout).toContain('Usage: edge-listener');
    for (const name of [
      'BRIDGE_SMTP_PORT',
      'BRIDGE_ALLOWED_CLIENTS',
      'BRIDGE_MAX_MESSAGE_BYTES',
      'BRIDGE_TLS_LEGACY',
      'BRIDGE_FORWARD_BUDGET_MS',
    ])
      expect(stdout).toContain(name);
  });

  it('main.ts exits 2 and lists every configuration problem at once, without echoing secrets', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      BRIDGE_SMTP_PORT: 'eighty',
      BRIDGE_FUNCTION_KEY: 'do-not-print-this-key',
    };
    const err = await run(process.execPath, ['--import', 'tsx', 'edge-listener/main.ts'], {
      cwd: ROOT,
      env,
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    for (const name of ['BRIDGE_SITE_ID', 'BRIDGE_FUNCTION_URL', 'BRIDGE_SMTP_PORT', 'BRIDGE_SITE_SECRET'])
      expect(err?.stderr).toContain(name);
    expect(err?.stderr).not.toContain('do-not-print-this-key');
  });
});

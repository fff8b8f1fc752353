import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithTool, toolPath } from '../../helpers/tool-groups';
import { idFromReply, startTestEdge, type TestEdge } from '../helpers/edge-harness';
import { FakeFunction } from '../../helpers/fake-function';

/**
 * Issue 10's attack, for real: Debian's nginx as a TLS-less reverse proxy on this machine in front of the
 * status page. Every request it forwards arrives at the listener from 127.0.0.1 — the case address-based
 * trust used to get wrong. A visitor through the proxy must not read the status data or delete acknowledged
 * mail without the admin token; with the token it works.
 *
 * nginx is a system tool: its test group is skipped with the closing line saying so when it is missing, and
 * fails under BRIDGE_TEST_ALL=1 (test/helpers/tool-groups.ts).
 */

const TOKEN = 'reverse-proxy-admin-token-0123456789';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** nginx as a user would configure it: one server block per style of proxy, each on its own loopback port. */
class Nginx {
  readonly #dir = mkdtempSync(join(tmpdir(), 'nginx-proxy-'));
  #proc: ChildProcess | undefined;
  #stderr = '';

  async start(servers: Array<{ port: number; upstream: number; headers: string[] }>): Promise<void> {
    for (const sub of ['logs', 'tmp']) mkdirSync(join(this.#dir, sub));
    const t = join(this.#dir, 'tmp');
    const conf = [
      'daemon off;',
      'master_process off;',
      // As root, nginx would switch its worker to "nobody"; stay the current user (the temp dirs are ours).
      ...(process.getuid?.() === 0 ? [`user ${userInfo().username};`] : []),
      `pid ${join(this.#dir, 'nginx.pid')};`,
      `error_log ${join(this.#dir, 'logs', 'error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(t, k)};`),
      ...servers.map((s) =>
        [
          `  server {`,
          `    listen 127.0.0.1:${s.port};`,
          `    location / {`,
          `      proxy_pass http://127.0.0.1:${s.upstream};`,
          ...s.headers.map((h) => `      ${h}`),
          `    }`,
          `  }`,
        ].join('\n'),
      ),
      '}',
    ].join('\n');
    const confFile = join(this.#dir, 'nginx.conf');
    writeFileSync(confFile, conf);
    this.#proc = spawn(
      toolPath('nginx'),
      ['-p', this.#dir, '-e', join(this.#dir, 'logs', 'error.log'), '-c', confFile],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.#proc.stderr!.on('data', (c: Buffer) => (this.#stderr += c.toString()));
    for (const s of servers) await this.#waitForPort(s.port);
  }

  async #waitForPort(port: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.#proc?.exitCode !== null) break;
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    let log = '';
    try {
      log = readFileSync(join(this.#dir, 'logs', 'error.log'), 'utf8');
    } catch {
      /* no log yet */
    }
    throw new Error(`nginx did not listen on ${port}: ${this.#stderr}\n${log}`);
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    if (proc && proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

describeWithTool('nginx', 'status page behind a real nginx reverse proxy', () => {
  let fn: FakeFunction;
  let trusting: TestEdge;
  let untrusting: TestEdge;
  const nginx = new Nginx();
  let typicalProxy = 0;
  let bareProxy = 0;

  beforeAll(async () => {
    // The function is "down" (503): every message stays in the spool, waiting — acknowledged mail at risk.
    fn = await FakeFunction.start({ script: () => ({ kind: 'retry', status: 503 }) });
    trusting = await startTestEdge(fn, { BRIDGE_ADMIN_TOKEN: TOKEN, BRIDGE_RETRY_SCHEDULE: '1h' });
    untrusting = await startTestEdge(fn, {
      BRIDGE_ADMIN_TOKEN: TOKEN,
      BRIDGE_RETRY_SCHEDULE: '1h',
      BRIDGE_ADMIN_LOOPBACK_TRUST: 'false',
    });
    typicalProxy = await freePort();
    bareProxy = await freePort();
    await nginx.start([
      {
        // What most guides write (and what nginx's own docs show for proxying): the visitor's Host and address.
        port: typicalProxy,
        upstream: trusting.listener.httpPort!,
        headers: [
          'proxy_set_header Host $host;',
          'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
          'proxy_set_header X-Forwarded-Proto $scheme;',
        ],
      },
      // A bare proxy_pass: Host 127.0.0.1:<port>, no forwarding header — indistinguishable from a local
      // browser, so only BRIDGE_ADMIN_LOOPBACK_TRUST=false protects it (docs/edge-install.md).
      { port: bareProxy, upstream: untrusting.listener.httpPort!, headers: [] },
    ]);
  }, 30_000);

  afterAll(async () => {
    await nginx.stop();
    await trusting?.cleanup();
    await untrusting?.cleanup();
    await fn?.close();
  });

  async function spoolOne(edge: TestEdge): Promise<string> {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: edge.listener.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      const info = await transport.sendMail({
        from: 'scanner@example.com',
        to: 'boss@example.org',
        subject: 'Quarterly figures',
        text: 'scan',
      });
      return idFromReply(String(info.response));
    } finally {
      transport.close();
    }
  }

  /** The listener still holds the message's body (custody). */
  const holds = async (edge: TestEdge, id: string) => (await edge.listener.spool.readHead(id)) !== undefined;

  for (const [name, port, edge] of [
    ['a typical proxy (Host $host, X-Forwarded-For)', () => typicalProxy, () => trusting],
    ['a bare proxy_pass, with address trust off', () => bareProxy, () => untrusting],
  ] as const) {
    it(`${name}: no token → 401 for the data and the delete, the message stays; the token opens both`, async () => {
      const id = await spoolOne(edge());
      expect(await holds(edge(), id)).toBe(true);
      const base = `http://127.0.0.1:${port()}`;

      const snapshot = await fetch(`${base}/status/api/snapshot`);
      expect(snapshot.status).toBe(401);
      expect(await snapshot.text()).not.toContain('Quarterly figures');

      const del = await fetch(`${base}/status/api/delete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
      expect(del.status).toBe(401);
      expect(await holds(edge(), id)).toBe(true);

      const auth = { authorization: `Bearer ${TOKEN}` };
      const seen = await fetch(`${base}/status/api/snapshot`, { headers: auth });
      expect(seen.status).toBe(200);
      expect(await seen.text()).toContain('Quarterly figures');
      const deleted = await fetch(`${base}/status/api/delete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ id }),
      });
      expect(deleted.status).toBe(200);
      expect(await holds(edge(), id)).toBe(false);
    });
  }

  it('the page itself (no data in it) loads through the proxy, and the listener noted the proxy for doctor', async () => {
    expect((await fetch(`http://127.0.0.1:${typicalProxy}/`)).status).toBe(200);
    expect(trusting.lines).toContainEqual(expect.objectContaining({ event: 'ADMIN_PROXY_HEADER' }));
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadEdgeConfig } from '../../../edge-listener/config';
import { readProxySeen } from '../../../edge-listener/status-page/proxy-seen';
import { edgeEnv } from '../../helpers/edge-env';
import { startTestEdge, type TestEdge } from '../helpers/edge-harness';
import { FakeFunction } from '../../helpers/fake-function';

/**
 * Who may read the status data and act on the spool: an admin address (loopback by default) or the admin
 * token — and the guards that keep other web pages a browser visits from borrowing the address trust.
 */
const TOKEN = 'status-access-token-0123456789abcdef';

let fn: FakeFunction;
let edge: TestEdge;
let strangers: TestEdge;
let noToken: TestEdge;

beforeAll(async () => {
  fn = await FakeFunction.start();
  edge = await startTestEdge(fn, { BRIDGE_ADMIN_TOKEN: TOKEN });
  // Address trust off: the test client stands for anyone who is not a browser on this machine.
  strangers = await startTestEdge(fn, { BRIDGE_ADMIN_TOKEN: TOKEN, BRIDGE_ADMIN_LOOPBACK_TRUST: 'false' });
  noToken = await startTestEdge(fn, { BRIDGE_ADMIN_LOOPBACK_TRUST: 'false' });
});
afterAll(async () => {
  await Promise.all([edge, strangers, noToken].map((e) => e?.cleanup()));
  await fn?.close();
});

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** node:http rather than fetch: these tests must choose the Host header, which fetch does not allow. */
function call(
  target: TestEdge,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.listener.httpPort,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const snapshot = '/status/api/snapshot';
const retry = (target: TestEdge, headers: Record<string, string>, body = '{"id":"unknown-message-0001"}') =>
  call(target, '/status/api/retry', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('status page access', () => {
  it('lets this machine read the status without a token', async () => {
    const res = await call(edge, snapshot);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ site: 'site-1', mode: 'live' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a wrong token even from an admin address', async () => {
    const res = await call(edge, snapshot, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error).toBe('the admin token is wrong');
  });

  it('asks for the token under a host name that is not this machine (DNS rebinding)', async () => {
    const rebound = await call(edge, snapshot, { headers: { host: 'attacker.example:8025' } });
    expect(rebound.status).toBe(401);
    expect(JSON.parse(rebound.body).error).toMatch(/host name.*admin token is required/);
    expect(
      (
        await call(edge, snapshot, {
          headers: { host: 'attacker.example:8025', authorization: `Bearer ${TOKEN}` },
        })
      ).status,
    ).toBe(200);
    expect((await call(edge, snapshot, { headers: { host: 'localhost:8025' } })).status).toBe(200);
  });

  it('lets another address in with the admin token only', async () => {
    const refused = await call(strangers, snapshot);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error).toMatch(/BRIDGE_ADMIN_LOOPBACK_TRUST.*admin token is required/);
    expect((await call(strangers, snapshot, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    // The token opens the actions too (404: the id does not exist, but the request got through).
    expect((await retry(strangers, { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
  });

  it('says how to get in when no token is configured and address trust is off', async () => {
    const res = await call(noToken, snapshot);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error).toMatch(/no admin token is configured \(BRIDGE_ADMIN_TOKEN\)/);
  });

  // The attacks of issue 10: a loopback peer is not enough when something forwards the connection.
  it.each([
    ['X-Forwarded-For', { 'x-forwarded-for': '203.0.113.9' }],
    ['X-Forwarded-Proto / Host', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'bridge.example' }],
    ['Forwarded', { forwarded: 'for=203.0.113.9;proto=https' }],
    ['Via', { via: '1.1 proxy.example' }],
  ])(
    'asks a request that came through a proxy (%s) for the token, and it cannot delete',
    async (_n, headers) => {
      const read = await call(edge, snapshot, { headers });
      expect(read.status).toBe(401);
      expect(JSON.parse(read.body).error).toMatch(/came through a proxy.*admin token is required/);
      const del = await call(edge, '/status/api/delete', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"id":"unknown-message-0001"}',
      });
      expect(del.status).toBe(401);
      // With the token the same proxied request is fine.
      expect(
        (await call(edge, snapshot, { headers: { ...headers, authorization: `Bearer ${TOKEN}` } })).status,
      ).toBe(200);
    },
  );

  it.each(['192.168.1.10:8025', '10.0.0.1', '[fe80::1]:8025', '0.0.0.0:8025', 'edge-host.example:8025'])(
    'does not trust by address under Host %s (only localhost, 127.x.x.x and [::1])',
    async (host) => {
      const res = await call(edge, snapshot, { headers: { host } });
      expect(res.status).toBe(401);
    },
  );

  it.each(['127.0.0.1:8025', 'localhost', '[::1]:8025', '127.1.2.3'])(
    'trusts a direct request with Host %s',
    async (host) => {
      expect((await call(edge, snapshot, { headers: { host } })).status).toBe(200);
    },
  );

  it('leaves a note for doctor and logs ADMIN_PROXY_HEADER once when a proxy header arrives under address trust', () => {
    expect(edge.lines.filter((l) => l.event === 'ADMIN_PROXY_HEADER')).toHaveLength(1);
    expect(readProxySeen(edge.dataDir)?.header).toMatch(/^(x-forwarded-|forwarded|via)/);
    expect(readProxySeen(strangers.dataDir)).toBeUndefined();
  });

  it('refuses to start with the removed BRIDGE_ADMIN_CLIENTS, saying what replaces it', () => {
    const r = loadEdgeConfig({ env: edgeEnv(fn, edge.dataDir, { BRIDGE_ADMIN_CLIENTS: '10.0.0.0/8' }) });
    expect('issues' in r && r.issues.join('\n')).toMatch(
      /BRIDGE_ADMIN_CLIENTS: removed.*BRIDGE_ADMIN_LOOPBACK_TRUST/,
    );
  });

  it('refuses actions another web page could send: form bodies, foreign origins, cross-site fetches', async () => {
    const form = await call(edge, '/status/api/retry', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=x',
    });
    expect(form.status).toBe(403);
    expect((await retry(edge, { origin: 'https://attacker.example' })).status).toBe(403);
    expect((await retry(edge, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // The page's own request passes the guards.
    expect(
      (
        await retry(edge, {
          origin: `http://127.0.0.1:${edge.listener.httpPort}`,
          'sec-fetch-site': 'same-origin',
        })
      ).status,
    ).toBe(404);
    expect(edge.lines).toContainEqual(
      expect.objectContaining({
        event: 'ADMIN_ACTION',
        via: 'status-page',
        action: 'retry',
        outcome: 'refused',
        reason: 'cross-origin request',
        client: '127.0.0.1',
      }),
    );
  });

  it('serves the page itself to anyone: it holds no message data', async () => {
    const page = await call(strangers, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('smtp-graph-bridge');
    expect((await call(strangers, '/status/assets/status.css')).status).toBe(200);
  });

  it('reads the admin token from a file and never from the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-token-'));
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const fromFile = loadEdgeConfig({ env: edgeEnv(fn, dir, { BRIDGE_ADMIN_TOKEN_FILE: tokenFile }) });
    expect('config' in fromFile && fromFile.config.statusPage.adminToken?.reveal()).toBe(TOKEN);
    expect(JSON.stringify('config' in fromFile ? fromFile.config : {})).not.toContain(TOKEN);

    const configFile = join(dir, 'edge.json');
    writeFileSync(configFile, JSON.stringify({ BRIDGE_ADMIN_TOKEN: TOKEN }));
    const fromConfig = loadEdgeConfig({ env: edgeEnv(fn, dir), file: configFile });
    expect('issues' in fromConfig && fromConfig.issues.join('\n')).toMatch(
      /BRIDGE_ADMIN_TOKEN \(from config file\): secrets are not read from the config file/,
    );
  });
});

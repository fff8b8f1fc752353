import { request as httpRequest } from 'node:http';

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { DEEP_HEALTH_PATH } from '../../../core/diagnostics';
import { EMPTY_SHA256, signedHeaders, WIRE_PATH, type WireResult } from '../../../core/wire';
import { startLocalFunctionHost, type LocalFunctionHost } from '../../../dev/function-host/host';
import {
  envelopeFor,
  frame,
  mimeMessage,
  newMessageId,
  SENDER,
  SITE,
  SITE_SECRET,
  signedPostHeaders,
  startKit,
  type Kit,
} from '../../functions/function-test-kit';

const FUNCTION_KEY = 'local-function-key-0123456789';
let kit: Kit;
let host: LocalFunctionHost;
const lines: string[] = [];

beforeAll(async () => {
  kit = await startKit('host', {
    settings: { BRIDGE_SYNC_MAX_BYTES: '4000', BRIDGE_MAX_MESSAGE_BYTES: '200000' },
  });
  host = await startLocalFunctionHost(kit.config, {
    functionKey: FUNCTION_KEY,
    services: kit.services,
    queue: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 1000 },
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
});
afterAll(async () => {
  await host.close();
  await kit.close();
});
beforeEach(() => kit.graph.clear());

async function post(
  id: string,
  mime = mimeMessage(),
  key: string | null = FUNCTION_KEY,
): Promise<{ status: number; body: WireResult }> {
  const body = frame(envelopeFor(id), mime);
  const res = await fetch(`${host.url}${WIRE_PATH}`, {
    method: 'POST',
    headers: { ...signedPostHeaders(body, id), ...(key ? { 'x-functions-key': key } : {}) },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as WireResult };
}

async function status(id: string): Promise<WireResult> {
  const path = `${WIRE_PATH}/${id}`;
  const res = await fetch(`${host.url}${path}`, {
    headers: {
      ...signedHeaders({
        siteId: SITE,
        messageId: id,
        bodySha256: EMPTY_SHA256,
        secret: SITE_SECRET,
        method: 'GET',
        path,
      }),
      'x-functions-key': FUNCTION_KEY,
    },
  });
  return (await res.json()) as WireResult;
}

describe('local function host over HTTP', () => {
  it('serves POST /api/v1/messages with the real handler: a small message is sent', async () => {
    const id = newMessageId();
    const { status: code, body } = await post(id);
    expect(code).toBe(200);
    expect(body).toMatchObject({ id, state: 'sent', sender: SENDER });
    expect(kit.graph.messages()).toHaveLength(1);
  });

  it('requires the function key on function routes, like Azure, and not on liveness', async () => {
    const id = newMessageId();
    expect((await post(id, mimeMessage(), null)).status).toBe(401);
    expect((await post(id, mimeMessage(), 'wrong-key-0123456789abcdef')).status).toBe(401);
    const live = await fetch(`${host.url}/api/health`);
    expect(live.status).toBe(200);
    expect((await fetch(`${host.url}/api/health/deep`)).status).toBe(401);
    // The function key alone (shared by every site) no longer opens the deep health: the site signs too.
    const keyOnly = await fetch(`${host.url}/api/health/deep`, {
      headers: { 'x-functions-key': FUNCTION_KEY },
    });
    expect(keyOnly.status).toBe(401);
    expect(((await keyOnly.json()) as WireResult).error?.code).toBe('SITE_UNKNOWN');
    // ?deep=1 redirects to the function-key route; the key and the signature (of the deep path) go along.
    const deep = await fetch(`${host.url}/api/health?deep=1`, {
      headers: {
        'x-functions-key': FUNCTION_KEY,
        ...signedHeaders({
          siteId: SITE,
          messageId: 'doctor-0123456789abcdef',
          bodySha256: EMPTY_SHA256,
          secret: SITE_SECRET,
          method: 'GET',
          path: DEEP_HEALTH_PATH,
        }),
      },
    });
    expect(deep.redirected).toBe(true);
    expect(deep.status).toBe(200);
    expect(((await deep.json()) as { graph: Array<{ roles: string[] }> }).graph[0]?.roles).toContain(
      'Mail.Send',
    );
    expect(kit.graph.messages()).toHaveLength(0);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await fetch(`${host.url}/api/nothing`)).status).toBe(404);
    expect(
      (await fetch(`${host.url}${WIRE_PATH}`, { headers: { 'x-functions-key': FUNCTION_KEY } })).status,
    ).toBe(405);
  });

  it('answers 413 to an oversize upload while it is still streaming, then closes the connection', async () => {
    const id = newMessageId();
    const head = frame(envelopeFor(id), Buffer.alloc(0));
    const headers = {
      ...signedPostHeaders(Buffer.from('unknown'), id),
      'x-functions-key': FUNCTION_KEY,
      'transfer-encoding': 'chunked',
    };
    const url = new URL(`${host.url}${WIRE_PATH}`);
    let written = 0;
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('error', () => undefined); // the server closes mid-upload; the answer already came
      req.write(head);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (written < 50 * 1024 * 1024) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect((JSON.parse(result.body) as WireResult).error?.code).toBe('MESSAGE_TOO_LARGE');
    expect(written).toBeLessThan(50 * 1024 * 1024);
    expect(await status(id)).toMatchObject({ state: 'failed', error: { code: 'MESSAGE_TOO_LARGE' } });
  });

  it('runs the queue trigger: a large message is queued (202) and then sent by the poller', async () => {
    const id = newMessageId();
    const { status: code } = await post(id, mimeMessage({ subject: 'Large via host', bodyBytes: 20_000 }));
    expect(code).toBe(202);
    const final = await vi.waitFor(async () => {
      const r = await status(id);
      expect(r.state).toBe('sent');
      return r;
    }, 15_000);
    expect(final.state).toBe('sent');
    expect(kit.graph.messages().map((m) => m.subject)).toEqual(['Large via host']);
  });

  it('re-queues on 429 with Retry-After and sends once the delay has passed', async () => {
    const id = newMessageId();
    kit.graph.inject({ route: 'sendMail', status: 429, retryAfterSec: 1 });
    expect((await post(id, mimeMessage({ bodyBytes: 20_000 }))).status).toBe(202);
    const final = await vi.waitFor(async () => {
      const r = await status(id);
      expect(r.state).toBe('sent');
      return r;
    }, 15_000);
    expect(final.state).toBe('sent');
    expect(
      kit.graph
        .requests()
        .filter((r) => r.route === 'sendMail')
        .map((r) => r.status),
    ).toEqual([429, 202]);
    expect(kit.graph.messages()).toHaveLength(1);
  });

  it('answers a repeated id over HTTP from the record; Graph saw one send', async () => {
    const id = newMessageId();
    await post(id);
    const again = await post(id);
    expect(again.body).toMatchObject({ state: 'sent', replayed: true });
    expect(kit.graph.requests().filter((r) => r.route === 'sendMail')).toHaveLength(1);
  });

  it('passes the functions log lines (JSON with event codes) to the host log, never the body', async () => {
    const id = newMessageId();
    await post(id, Buffer.from(mimeMessage().toString().replace('The quick', 'TOP-SECRET-BODY-LINE')));
    const mine = lines.filter((l) => l.includes(id));
    expect(mine.some((l) => (JSON.parse(l) as { event: string }).event === 'MESSAGE_SENT')).toBe(true);
    expect(lines.join('\n')).not.toContain('TOP-SECRET-BODY-LINE');
  });
});

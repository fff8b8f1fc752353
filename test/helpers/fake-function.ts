import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import { vi } from 'vitest';

import type { Envelope } from '../../core/envelope';
import { type BridgeErrorCode, bridgeError } from '../../core/errors';
import { FrameDecoder, verifySignature, WIRE_HEADERS, WIRE_PATH, type WireResult } from '../../core/wire';

/**
 * A stand-in for the Azure Function at the process boundary: a real https server that implements the wire
 * contract (function key, HMAC signature, body digest, frame decoding) and answers as scripted. It plays
 * the function's idempotency the simple way — it records every id it saw — so tests can assert "every
 * 250'd id arrived at least once" and count repeats.
 */
export type Plan =
  | { kind: 'sent' }
  | { kind: 'queued' }
  | { kind: 'reject'; code: BridgeErrorCode; detail?: string; status?: number }
  | { kind: 'retry'; status: number; code?: BridgeErrorCode; retryAfter?: string }
  | { kind: 'raw'; status: number; body: string; contentType?: string }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number; then: Plan };

export interface Received {
  id: string;
  envelope: Envelope;
  mimeBytes: number;
  mimeSha256: string;
  /** The MIME bytes when small enough to keep (≤ 4 MiB). */
  mime?: Buffer;
  /** 1 for the first request with this id. */
  seq: number;
}

export interface FakeFunctionOptions {
  siteId?: string;
  siteSecret?: string;
  functionKey?: string;
  script?: (req: Received) => Plan;
}

export class FakeFunction {
  readonly siteId: string;
  readonly siteSecret: string;
  readonly functionKey: string;
  script: (req: Received) => Plan;
  readonly received: Received[] = [];
  /** Requests refused before the script (bad key, signature, digest, frame). */
  readonly refused: string[] = [];
  active = 0;
  maxActive = 0;
  #server!: Server;
  #hanging = new Set<ServerResponse>();
  url = '';

  constructor(opts: FakeFunctionOptions = {}) {
    this.siteId = opts.siteId ?? 'site-1';
    this.siteSecret = opts.siteSecret ?? 'test-site-secret-0123456789';
    this.functionKey = opts.functionKey ?? 'test-function-key';
    this.script = opts.script ?? (() => ({ kind: 'sent' }));
  }

  static async start(opts?: FakeFunctionOptions): Promise<FakeFunction> {
    const f = new FakeFunction(opts);
    const key = readFileSync(process.env.BRIDGE_TEST_TLS_KEY!);
    const cert = readFileSync(process.env.BRIDGE_TEST_TLS_CERT!);
    f.#server = createServer({ key, cert }, (req, res) => void f.#handle(req, res));
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `https://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  /** Distinct message ids that reached the function with a valid request. */
  ids(): Set<string> {
    return new Set(this.received.map((r) => r.id));
  }

  byId(id: string): Received[] {
    return this.received.filter((r) => r.id === id);
  }

  /** vi.waitFor with the function's side of the story (how many requests it got) in the failure. */
  async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    await vi.waitFor(
      () => {
        if (!predicate())
          throw new Error(
            `fake function: condition not met within ${timeoutMs} ms (received ${this.received.length})`,
          );
      },
      { timeout: timeoutMs, interval: 10 },
    );
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    res.on('close', () => this.active--);
    const h = (name: string) => String(req.headers[name] ?? '');
    if (req.method !== 'POST' || req.url !== WIRE_PATH) return this.#refuse(res, 404, 'route');
    if (h(WIRE_HEADERS.functionKey) !== this.functionKey)
      return this.#refuse(res, 401, 'function key', 'Unauthorized');
    const decoder = new FrameDecoder();
    const hash = createHash('sha256');
    const mimeHash = createHash('sha256');
    const kept: Buffer[] = [];
    let mimeBytes = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        hash.update(chunk);
        const mime = decoder.push(chunk);
        mimeHash.update(mime);
        mimeBytes += mime.length;
        if (mimeBytes <= 4 * 1024 * 1024) kept.push(mime);
      }
    } catch {
      return this.#refuse(res, 400, 'frame');
    }
    const bodySha = hash.digest('hex');
    if (bodySha !== h(WIRE_HEADERS.bodySha256)) return this.#refuse(res, 400, 'digest');
    const envelope = decoder.envelope;
    if (!envelope) return this.#refuse(res, 400, 'frame');
    const signed = verifySignature(
      {
        method: 'POST',
        path: WIRE_PATH,
        timestamp: h(WIRE_HEADERS.timestamp),
        messageId: h(WIRE_HEADERS.messageId),
        bodySha256: bodySha,
      },
      this.siteSecret,
      h(WIRE_HEADERS.signature),
    );
    if (!signed || h(WIRE_HEADERS.site) !== this.siteId || envelope.messageId !== h(WIRE_HEADERS.messageId))
      return this.#refuse(res, 401, 'signature');
    const rec: Received = {
      id: envelope.messageId,
      envelope,
      mimeBytes,
      mimeSha256: mimeHash.digest('hex'),
      seq: this.byId(envelope.messageId).length + 1,
    };
    if (mimeBytes <= 4 * 1024 * 1024) rec.mime = Buffer.concat(kept);
    this.received.push(rec);
    await this.#answer(res, rec, this.script(rec));
  }

  async #answer(res: ServerResponse, rec: Received, plan: Plan): Promise<void> {
    const result = (state: WireResult['state'], extra: Partial<WireResult> = {}): WireResult => ({
      id: rec.id,
      state,
      updatedAt: new Date().toISOString(),
      ...extra,
    });
    switch (plan.kind) {
      case 'sent':
        return json(
          res,
          200,
          result('sent', { sender: rec.envelope.mailFrom, graphRequestId: `req-${rec.seq}` }),
        );
      case 'queued':
        return json(res, 202, result('queued'));
      case 'reject': {
        const err = bridgeError(plan.code, plan.detail === undefined ? {} : { detail: plan.detail });
        return json(res, plan.status ?? 422, result('failed', { error: err.toJSON() }));
      }
      case 'retry': {
        const headers: Record<string, string> = plan.retryAfter ? { 'retry-after': plan.retryAfter } : {};
        const body = plan.code ? result('received', { error: bridgeError(plan.code).toJSON() }) : undefined;
        return json(res, plan.status, body ?? { error: 'busy' }, headers);
      }
      case 'raw':
        res.writeHead(plan.status, { 'content-type': plan.contentType ?? 'text/html' });
        res.end(plan.body);
        return;
      case 'hang':
        this.#hanging.add(res);
        return;
      case 'delay':
        await new Promise((r) => setTimeout(r, plan.ms));
        return this.#answer(res, rec, plan.then);
    }
  }

  #refuse(res: ServerResponse, status: number, why: string, body = ''): void {
    this.refused.push(why);
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  }
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

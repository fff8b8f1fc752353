import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { sha256Hex } from '../../core/wire';
import { makeSendMessageHandler } from '../../functions/http/post-message-handler';
import {
  bodyOf,
  envelopeFor,
  frame,
  header,
  invocation,
  mimeMessage,
  newMessageId,
  OTHER_SECRET,
  postMessage,
  SENDER,
  SITE,
  SITE_SECRET,
  signedPostHeaders,
  startKit,
  streamedPostRequest,
  type Kit,
  type PostOptions,
} from './function-test-kit';

let kit: Kit;
let sendMessage: ReturnType<typeof makeSendMessageHandler>;

beforeAll(async () => {
  kit = await startKit('send', {
    settings: { BRIDGE_SYNC_MAX_BYTES: '20000', BRIDGE_MAX_MESSAGE_BYTES: '200000' },
  });
  sendMessage = makeSendMessageHandler(() => kit.services);
});
afterAll(() => kit.close());
beforeEach(() => kit.graph.clear());

const post = (id: string, mime?: Buffer, opts?: PostOptions) =>
  postMessage(kit.services, { id, mime, post: opts });

const sends = () => kit.graph.requests().filter((r) => r.route === 'sendMail' || r.route === 'send');

describe('POST /api/v1/messages (handler called as the host calls it)', () => {
  it('sends a small message within the request and answers 200 sent with the Graph request id', async () => {
    const id = newMessageId();
    const { res, body, inv } = await post(id, mimeMessage({ subject: 'Invoice 42' }));
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ id, state: 'sent', sender: SENDER });
    expect(body.graphRequestId).toMatch(/\w/);
    const [kept] = kit.graph.messages();
    expect(kit.graph.messages()).toHaveLength(1);
    expect(kept).toMatchObject({ mailbox: SENDER, subject: 'Invoice 42' });
    expect([...kept!.to, ...kept!.cc, ...kept!.bcc].sort()).toEqual([
      'alice@fabrikam.com',
      'bob@fabrikam.com',
    ]);
    const record = await kit.services.store.get(SITE, id);
    expect(record).toMatchObject({
      state: 'sent',
      phase: 'done',
      sender: SENDER,
      recipientCount: 2,
      graphRequestId: body.graphRequestId,
    });
    expect(inv.events().filter((e) => e.event === 'MESSAGE_SENT')).toHaveLength(1);
  });

  it('answers a repeated id with the recorded outcome and never sends it again', async () => {
    const id = newMessageId();
    const first = await post(id);
    const second = await post(id);
    expect(first.res.status).toBe(200);
    expect(second.res.status).toBe(200);
    expect(second.body).toMatchObject({
      id,
      state: 'sent',
      replayed: true,
      graphRequestId: first.body.graphRequestId,
    });
    expect(sends()).toHaveLength(1);
    expect(second.inv.events().map((e) => e.event)).toContain('MESSAGE_REPLAYED');
  });

  it('refuses a bad signature, an unknown site and a stale timestamp with 401 before recording anything', async () => {
    const id = newMessageId();
    const bad = await post(id, mimeMessage(), { secret: OTHER_SECRET });
    const unknown = await post(id, mimeMessage(), { site: 'nowhere', secret: SITE_SECRET });
    const stale = await post(id, mimeMessage(), { now: new Date(Date.now() - 6 * 60_000) });
    const future = await post(id, mimeMessage(), { now: new Date(Date.now() + 6 * 60_000) });
    expect([bad.res.status, unknown.res.status, stale.res.status, future.res.status]).toEqual([
      401, 401, 401, 401,
    ]);
    expect(bad.body.error?.code).toBe('SITE_SIGNATURE_INVALID');
    expect(unknown.body.error?.code).toBe('SITE_UNKNOWN');
    expect(stale.body.error?.code).toBe('REQUEST_STALE');
    expect(future.body.error?.code).toBe('REQUEST_STALE');
    expect(await kit.services.store.get(SITE, id)).toBeUndefined();
    expect(sends()).toHaveLength(0);
  });

  it('refuses a body that does not match its signed digest and lets the corrected retry through', async () => {
    const id = newMessageId();
    const body = frame(envelopeFor(id), mimeMessage());
    const tampered = Buffer.from(body);
    tampered[tampered.length - 3] = 0x21;
    const headers = signedPostHeaders(body, id);
    const res = await sendMessage(
      streamedPostRequest(new Blob([tampered]).stream(), headers),
      invocation().context,
    );
    expect(res.status).toBe(400);
    expect(bodyOf(res).error?.code).toBe('BODY_DIGEST_MISMATCH');
    expect(sends()).toHaveLength(0);
    const retry = await post(id);
    expect(retry.res.status).toBe(200);
    expect(sends()).toHaveLength(1);
  });

  it('stops reading an oversize body as soon as it passes the limit and answers 413', async () => {
    const id = newMessageId();
    const head = frame(envelopeFor(id), Buffer.alloc(0));
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const totalChunks = 10_000; // 160 MB offered, the limit is 200 kB
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === 0) controller.enqueue(new Uint8Array(head));
        if (pulled >= totalChunks) return controller.close();
        pulled++;
        controller.enqueue(new Uint8Array(chunk));
      },
    });
    // No Content-Length (chunked upload): only the streaming check can catch it.
    const headers = signedPostHeaders(Buffer.from('unknown'), id, { bodySha256: sha256Hex('whatever') });
    const res = await sendMessage(streamedPostRequest(stream, headers), invocation().context);
    expect(res.status).toBe(413);
    expect(bodyOf(res)).toMatchObject({
      id,
      state: 'failed',
      error: { code: 'MESSAGE_TOO_LARGE', retryable: false },
    });
    expect(pulled).toBeLessThan(20); // ~13 chunks reach 200 kB; the rest was never read
    expect(await kit.services.store.get(SITE, id)).toMatchObject({
      state: 'failed',
      errorCode: 'MESSAGE_TOO_LARGE',
    });
  });

  it('refuses by Content-Length alone when the announced body cannot fit', async () => {
    const id = newMessageId();
    const headers = { ...signedPostHeaders(Buffer.from('x'), id), 'content-length': String(50_000_000) };
    const res = await sendMessage(
      streamedPostRequest(new Blob([Buffer.from('x')]).stream(), headers),
      invocation().context,
    );
    expect(res.status).toBe(413);
    expect(bodyOf(res).error?.code).toBe('MESSAGE_TOO_LARGE');
  });

  it('rejects a sender outside the policy with 422 and replays the same rejection', async () => {
    const id = newMessageId();
    const first = await post(id, mimeMessage({ from: 'stranger@elsewhere.example' }), {});
    // The envelope MAIL FROM is the allowed scanner, but the From header decides; the edge frames both.
    expect(first.res.status).toBe(422);
    expect(first.body).toMatchObject({
      state: 'failed',
      error: { code: 'SENDER_NOT_ALLOWED', retryable: false },
    });
    const again = await post(id, mimeMessage({ from: 'stranger@elsewhere.example' }));
    expect(again.res.status).toBe(422);
    expect(again.body.replayed).toBe(true);
    expect(sends()).toHaveLength(0);
  });

  it('queues a message over the sync size: 202, the frame in Blob Storage and a pointer on the queue', async () => {
    const id = newMessageId();
    const mime = mimeMessage({ bodyBytes: 60_000 });
    const { res, body } = await post(id, mime);
    expect(res.status).toBe(202);
    expect(body).toMatchObject({ id, state: 'queued', sender: SENDER });
    expect(sends()).toHaveLength(0);
    const loaded = await kit.services.outbound.load({
      v: 1,
      siteId: SITE,
      messageId: id,
      blobName: `${SITE}/${id}`,
      attempts: 0,
      queuedAt: '',
    });
    expect(loaded?.mime.equals(mime)).toBe(true);
    expect(await kit.services.store.get(SITE, id)).toMatchObject({
      state: 'queued',
      phase: 'waiting',
      sizeBytes: mime.length,
    });
  });

  it('refuses a message over the sync size on the first try, as a small one (it is checked, not queued)', async () => {
    const stranger = newMessageId();
    const first = await post(
      stranger,
      mimeMessage({ from: 'stranger@elsewhere.example', bodyBytes: 60_000 }),
    );
    expect(first.res.status).toBe(422);
    expect(first.body).toMatchObject({ state: 'failed', error: { code: 'SENDER_NOT_ALLOWED' } });

    const broken = newMessageId();
    const lost = Buffer.from(
      mimeMessage({ bodyBytes: 60_000 })
        .toString('latin1')
        .replace(
          'Content-Type: text/plain; charset=utf-8',
          'Content-Type: multipart/mixed; boundary=nowhere',
        ),
      'latin1',
    );
    const second = await post(broken, lost);
    expect(second.res.status).toBe(422);
    expect(second.body).toMatchObject({ state: 'failed', error: { code: 'MIME_UNPARSEABLE' } });

    for (const id of [stranger, broken]) {
      const pointer = { v: 1 as const, siteId: SITE, messageId: id, blobName: `${SITE}/${id}`, attempts: 0 };
      expect(await kit.services.outbound.load({ ...pointer, queuedAt: '' })).toBeUndefined();
    }
    expect(sends()).toHaveLength(0);
  });

  it('queues a message whose send hit a retryable Graph error and records that error', async () => {
    const id = newMessageId();
    kit.graph.inject({ route: 'sendMail', status: 503 });
    const { res, body } = await post(id);
    expect(res.status).toBe(202);
    expect(body).toMatchObject({
      state: 'queued',
      lastError: { code: 'GRAPH_UNAVAILABLE', retryable: true },
    });
    expect(body.error).toBeUndefined();
    expect(Date.parse(body.nextAttemptAt ?? '')).not.toBeNaN();
    expect(await kit.services.store.get(SITE, id)).toMatchObject({
      state: 'queued',
      attempts: 1,
      errorCode: 'GRAPH_UNAVAILABLE',
    });
    expect(kit.graph.messages()).toHaveLength(0);
  });

  it('answers a permanent Graph refusal with 422 and the Graph details', async () => {
    const id = newMessageId();
    kit.graph.inject({
      route: 'sendMail',
      status: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    });
    const { res, body } = await post(id);
    expect(res.status).toBe(422);
    expect(body.error).toMatchObject({
      code: 'GRAPH_MAILBOX_NOT_FOUND',
      retryable: false,
      graph: { status: 404, code: 'MailboxNotEnabledForRESTAPI' },
    });
    expect(body.graphRequestId).toBe(body.error?.graph?.requestId);
  });
});

describe('ids with an unfinished earlier attempt', () => {
  it('answers 409 MESSAGE_IN_PROGRESS with Retry-After while another attempt is alive', async () => {
    const id = newMessageId();
    await kit.services.store.claim(SITE, id, 'other-attempt', new Date());
    const { res, body } = await post(id);
    expect(res.status).toBe(409);
    expect(body.error?.code).toBe('MESSAGE_IN_PROGRESS');
    expect(Number(header(res, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(sends()).toHaveLength(0);
  });

  it('queues a dead attempt that may have reached Graph for a Sent Items look-up (202) instead of sending again', async () => {
    const id = newMessageId();
    const claim = await kit.services.store.claim(
      SITE,
      id,
      'dead-attempt',
      new Date(Date.now() - 10 * 60_000),
    );
    await kit.services.store.tryUpdate(claim.record, { phase: 'graph' }, new Date(Date.now() - 10 * 60_000));
    const { res, body } = await post(id);
    expect(res.status).toBe(202);
    expect(body.state).toBe('queued');
    expect(await kit.services.store.get(SITE, id)).toMatchObject({ state: 'queued', phase: 'unknown' });
    expect(sends()).toHaveLength(0);
  });

  it('takes over from a dead attempt that never reached Graph and sends once', async () => {
    const id = newMessageId();
    await kit.services.store.claim(SITE, id, 'dead-attempt', new Date(Date.now() - 10 * 60_000));
    const { res } = await post(id);
    expect(res.status).toBe(200);
    expect(sends()).toHaveLength(1);
  });
});

describe('logging', () => {
  it('never logs the message body, the site secret or a token', async () => {
    const id = newMessageId();
    const secretText = 'CONFIDENTIAL-PAYROLL-DATA-7731';
    const mime = Buffer.from(mimeMessage().toString().replace('The quick', secretText));
    expect(mime.toString()).toContain(secretText);
    const { inv } = await post(id, mime);
    const all = inv.lines.join('\n');
    expect(all).toContain('MESSAGE_SENT');
    expect(all).not.toContain(secretText);
    expect(all).not.toContain(SITE_SECRET);
    expect(all).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT
  });
});

import { HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sha256Hex, signedHeaders, WIRE_PATH } from '../../core/wire';
import { makeMessageStatusHandler } from '../../functions/http/message-status-handler';
import {
  bodyOf,
  invocation,
  newMessageId,
  OTHER_SECRET,
  OTHER_SITE,
  postMessage,
  SENDER,
  SITE,
  SITE_SECRET,
  startKit,
  statusRequest,
  type Kit,
} from './function-test-kit';

let kit: Kit;
let sentId: string;
const status = makeMessageStatusHandler(() => kit.services);

beforeAll(async () => {
  kit = await startKit('status');
  const sent = await postMessage(kit.services);
  sentId = sent.id;
  expect(sent.res.status).toBe(200);
});
afterAll(() => kit.close());

describe('GET /api/v1/messages/{id}', () => {
  it('returns the recorded state to the site that sent the message', async () => {
    const res = await status(statusRequest(sentId), invocation('messageStatus').context);
    expect(res.status).toBe(200);
    expect(bodyOf(res)).toMatchObject({ id: sentId, state: 'sent', sender: SENDER });
    expect(bodyOf(res).graphRequestId).toMatch(/\w/);
  });

  it('does not show the message to another site, even a properly signed one', async () => {
    const res = await status(
      statusRequest(sentId, { site: OTHER_SITE, secret: OTHER_SECRET }),
      invocation('messageStatus').context,
    );
    expect(res.status).toBe(404);
    expect(bodyOf(res).error?.code).toBe('MESSAGE_NOT_FOUND');
  });

  it('refuses a request signed with the wrong secret', async () => {
    const res = await status(
      statusRequest(sentId, { site: SITE, secret: OTHER_SECRET }),
      invocation('messageStatus').context,
    );
    expect(res.status).toBe(401);
    expect(bodyOf(res).error?.code).toBe('SITE_SIGNATURE_INVALID');
  });

  it('refuses a signature made for another id or over a non-empty body', async () => {
    const path = `${WIRE_PATH}/${sentId}`;
    const otherId = signedHeaders({
      siteId: SITE,
      messageId: 'msg-someone-else',
      bodySha256: sha256Hex(''),
      secret: SITE_SECRET,
      method: 'GET',
      path,
    });
    const withBody = signedHeaders({
      siteId: SITE,
      messageId: sentId,
      bodySha256: sha256Hex('x'),
      secret: SITE_SECRET,
      method: 'GET',
      path,
    });
    for (const headers of [otherId, withBody]) {
      const req = new HttpRequest({
        method: 'GET',
        url: `https://bridge.example${path}`,
        headers,
        params: { id: sentId },
      });
      const res = await status(req, invocation('messageStatus').context);
      expect(res.status).toBe(401);
    }
  });

  it('answers 404 for an id the function never saw', async () => {
    const res = await status(statusRequest(newMessageId()), invocation('messageStatus').context);
    expect(res.status).toBe(404);
    expect(bodyOf(res)).toMatchObject({ error: { code: 'MESSAGE_NOT_FOUND', retryable: true } });
  });
});

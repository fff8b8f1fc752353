import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { WIRE_HEADERS } from '../../core/wire';
import { receiveMessage } from '../delivery/http-delivery';
import type { ServicesGetter } from '../services';
import { authenticateSiteRequest } from './authenticate-site-request';
import { checkAnnouncedLength, readFramedBody } from './read-framed-body';
import { intakeResponse } from './responses';

/**
 * POST /api/v1/messages, the HTTP side: verify the site (headers only, and an announced length that cannot
 * fit is refused before a byte of body is read), hand the message to the delivery path
 * (delivery/http-delivery.ts), which reads the framed body when it has claimed the id, and answer its
 * WireResult.
 */
export function makeSendMessageHandler(getServices: ServicesGetter) {
  return async function sendMessage(
    request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    const auth = authenticateSiteRequest(request, context, getServices, {
      fn: 'sendMessage',
      answerId: (request.headers.get(WIRE_HEADERS.messageId) ?? '').slice(0, 128),
      logAnswerId: true,
      check: (_verified, services) =>
        checkAnnouncedLength(request.headers.get('content-length'), services.config.maxMessageBytes),
    });
    if (!auth.ok) return auth.response;
    const { services, log, verified } = auth;
    const answer = await receiveMessage(services, log, {
      siteId: verified.siteId,
      messageId: verified.messageId,
      readBody: () =>
        readFramedBody(request.body, {
          maxMimeBytes: services.config.maxMessageBytes,
          expectedSha256: verified.bodySha256,
        }),
    });
    return intakeResponse(answer, verified.messageId);
  };
}

import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { WIRE_HEADERS } from '../../core/wire';
import { toBridgeError } from '../../core/errors';
import { receiveMessage } from '../delivery/http-delivery';
import { takeSiteRate } from '../tenants/site-rate-limit';
import type { ServicesGetter } from '../services';
import { authenticateSiteRequest, refuseSiteRequest } from './authenticate-site-request';
import { checkAnnouncedLength, readFramedBody } from './read-framed-body';
import { errorResponse, intakeResponse } from './responses';

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
    const auth = await authenticateSiteRequest(request, context, getServices, {
      fn: 'sendMessage',
      answerId: (request.headers.get(WIRE_HEADERS.messageId) ?? '').slice(0, 128),
      logAnswerId: true,
      check: (_verified, services) =>
        checkAnnouncedLength(request.headers.get('content-length'), services.config.maxMessageBytes),
    });
    if (!auth.ok) return auth.response;
    const { services, log, verified } = auth;
    // A site over its own rate is refused before anything is recorded, so it cannot starve the others.
    try {
      const limited = await takeSiteRate(
        services.registry,
        verified.siteId,
        auth.site.ratePerMinute,
        services.now().getTime(),
      );
      if (limited)
        return refuseSiteRequest(log, request, limited, { answerId: verified.messageId, logAnswerId: true });
    } catch (err) {
      return errorResponse(toBridgeError(err), verified.messageId);
    }
    const answer = await receiveMessage(services, log, {
      siteId: verified.siteId,
      messageId: verified.messageId,
      site: auth.site,
      readBody: () =>
        readFramedBody(request.body, {
          maxMimeBytes: services.config.maxMessageBytes,
          expectedSha256: verified.bodySha256,
        }),
    });
    return intakeResponse(answer, verified.messageId);
  };
}

import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { bridgeError } from '../../core/errors';
import { EMPTY_SHA256 } from '../../core/wire';
import type { ServicesGetter } from '../services';
import { toWireResult } from '../state/message-record';
import { authenticateSiteRequest, refuseSiteRequest, type SiteRoute } from './authenticate-site-request';
import { errorResponse, wireResponse } from './responses';

/**
 * GET /api/v1/messages/{id}: the recorded state of one message, only to the site that sent it. The request
 * is signed like a POST, over an empty body (EMPTY_SHA256), with the id in the message-id header. Records
 * are partitioned by site, so another site's id simply does not exist for the caller.
 */
export function makeMessageStatusHandler(getServices: ServicesGetter) {
  return async function messageStatus(
    request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    const id = (request.params.id ?? '').slice(0, 128);
    const route: SiteRoute = {
      fn: 'messageStatus',
      answerId: id,
      logAnswerId: true,
      check: (verified) => {
        if (verified.messageId !== id || verified.bodySha256 !== EMPTY_SHA256) {
          throw bridgeError('SITE_SIGNATURE_INVALID', {
            detail: 'a status request signs its id and an empty body',
          });
        }
      },
    };
    const auth = await authenticateSiteRequest(request, context, getServices, route);
    if (!auth.ok) return auth.response;
    try {
      const record = await auth.services.store.get(auth.verified.siteId, id);
      if (!record) return errorResponse(bridgeError('MESSAGE_NOT_FOUND'), id);
      // The read succeeded whatever the message's state: 200, and the state is in the body.
      return wireResponse(200, toWireResult(record, false));
    } catch (err) {
      return refuseSiteRequest(auth.log, request, err, route);
    }
  };
}

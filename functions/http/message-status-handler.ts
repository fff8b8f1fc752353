import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { bridgeError, toBridgeError } from '../../core/errors';
import { EMPTY_SHA256, WIRE_HEADERS } from '../../core/wire';
import { invocationLogger } from '../invocation-logger';
import type { FunctionServices, ServicesGetter } from '../services';
import { toWireResult } from '../state/message-record';
import { errorResponse, wireResponse } from './responses';
import { verifySiteRequest } from './verify-request';

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
    let services: FunctionServices;
    try {
      services = getServices();
    } catch (err) {
      return errorResponse(toBridgeError(err), id);
    }
    const log = invocationLogger(context, services.config.logLevel, { fn: 'messageStatus' });
    try {
      const verified = verifySiteRequest(request, services.config.siteSecrets, services.now());
      if (verified.messageId !== id || verified.bodySha256 !== EMPTY_SHA256) {
        throw bridgeError('SITE_SIGNATURE_INVALID', {
          detail: 'a status request signs its id and an empty body',
        });
      }
      const record = await services.store.get(verified.siteId, id);
      if (!record) return errorResponse(bridgeError('MESSAGE_NOT_FOUND'), id);
      // The read succeeded whatever the message's state: 200, and the state is in the body.
      return wireResponse(200, toWireResult(record, false));
    } catch (err) {
      const error = toBridgeError(err);
      log.warn({
        event: 'REQUEST_REJECTED',
        code: error.code,
        site: request.headers.get(WIRE_HEADERS.site)?.slice(0, 64),
        id,
        err: error,
      });
      return errorResponse(error, id);
    }
  };
}

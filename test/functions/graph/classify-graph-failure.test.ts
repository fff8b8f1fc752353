import { describe, expect, it } from 'vitest';

import type { BridgeErrorCode } from '../../../core/errors';
import {
  GRAPH_ERROR_ROWS,
  classifyCredentialError,
  classifyGraphResponse,
  classifyTransportError,
  matchGraphRow,
  type GraphFailure,
} from '../../../functions/graph/classify-graph-failure';

/** [status, Graph code, Graph message, expected BridgeError code, words the detail must contain] */
const CASES: Array<[number, string | undefined, string | undefined, BridgeErrorCode, RegExp]> = [
  [
    429,
    'ApplicationThrottled',
    'Application is over its MailboxConcurrency limit.',
    'GRAPH_THROTTLED',
    /4 concurrent requests/,
  ],
  [429, undefined, undefined, 'GRAPH_THROTTLED', /HTTP 429/],
  [503, 'ServiceUnavailable', undefined, 'GRAPH_UNAVAILABLE', /transiently/],
  [504, 'GatewayTimeout', undefined, 'GRAPH_UNAVAILABLE', /transiently/],
  [500, 'InternalServerError', undefined, 'GRAPH_UNAVAILABLE', /transiently/],
  [
    403,
    'ErrorAccessDenied',
    'Access to OData is disabled.',
    'GRAPH_ACCESS_DENIED',
    /RBAC for Applications scope/,
  ],
  [
    403,
    'ErrorAccessDenied',
    'Access is denied. Check credentials and try again.',
    'GRAPH_ACCESS_DENIED',
    /Mail\.Send/,
  ],
  [
    403,
    'Authorization_RequestDenied',
    'Insufficient privileges to complete the operation.',
    'GRAPH_ACCESS_DENIED',
    /User\.Read\.All/,
  ],
  [403, 'SomethingNew', undefined, 'GRAPH_ACCESS_DENIED', /access denied/],
  [
    403,
    'ErrorSendAsDenied',
    'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account.',
    'GRAPH_SEND_AS_DENIED',
    /Send As/,
  ],
  [400, 'errorsendasdenied', undefined, 'GRAPH_SEND_AS_DENIED', /Send As/],
  [
    404,
    'MailboxNotEnabledForRESTAPI',
    'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    'GRAPH_MAILBOX_NOT_FOUND',
    /on-premises/,
  ],
  [
    404,
    'ErrorInvalidUser',
    "The requested user 'x@y' is invalid.",
    'GRAPH_MAILBOX_NOT_FOUND',
    /no such user/,
  ],
  [404, 'ResourceNotFound', undefined, 'GRAPH_MAILBOX_NOT_FOUND', /not found/],
  [404, 'Request_ResourceNotFound', undefined, 'GRAPH_MAILBOX_NOT_FOUND', /not found/],
  [
    404,
    'ErrorItemNotFound',
    'The specified object was not found in the store.',
    'GRAPH_UNAVAILABLE',
    /draft/,
  ],
  [
    400,
    'ErrorInvalidRecipients',
    'At least one recipient is not valid.',
    'GRAPH_INVALID_RECIPIENTS',
    /recipient/,
  ],
  [
    400,
    'ErrorMessageSizeExceeded',
    'The message exceeds the maximum supported size.',
    'GRAPH_PAYLOAD_TOO_LARGE',
    /maximum message size/,
  ],
  [413, undefined, undefined, 'GRAPH_PAYLOAD_TOO_LARGE', /request size limit/],
  [
    400,
    'ErrorMimeContentInvalidBase64String',
    'Invalid base64 string for MIME content.',
    'GRAPH_REJECTED',
    /ErrorMimeContentInvalidBase64String/,
  ],
  [
    400,
    'InvalidInternetMessageHeader',
    "The internet message header name 'List-Unsubscribe' should start with 'x-' or 'X-'.",
    'GRAPH_REJECTED',
    /List-Unsubscribe/,
  ],
  [
    401,
    'InvalidAuthenticationToken',
    'Access token has expired or is not yet valid.',
    'GRAPH_TOKEN_FAILED',
    /access token/,
  ],
  [409, 'ErrorIrresolvableConflict', undefined, 'GRAPH_REJECTED', /unexpected/],
];

describe('classifyGraphResponse', () => {
  it.each(CASES)('%i %s (%s) → %s', (status, code, message, expected, detail) => {
    const f: GraphFailure = {
      status,
      requestId: 'req-1',
      ...(code ? { code } : {}),
      ...(message ? { message } : {}),
    };
    const e = classifyGraphResponse(f);
    expect(e.code).toBe(expected);
    expect(e.detail).toMatch(detail);
    expect(e.graph).toEqual({ status, requestId: 'req-1', ...(code ? { code } : {}) });
  });

  it('reaches every row of the table with some case (no row is shadowed by an earlier one)', () => {
    const reached = new Set(
      CASES.map(([status, code, message]) =>
        matchGraphRow({ status, ...(code ? { code } : {}), ...(message ? { message } : {}) }),
      ),
    );
    expect(GRAPH_ERROR_ROWS.filter((row) => !reached.has(row))).toEqual([]);
  });

  it('carries Retry-After into retryAfterMs', () => {
    expect(classifyGraphResponse({ status: 429, retryAfterMs: 7000 }).retryAfterMs).toBe(7000);
    expect(classifyGraphResponse({ status: 503, retryAfterMs: 2000 }).retryAfterMs).toBe(2000);
  });

  it('treats a gateway error on a sending call as an unknown outcome, not as retryable', () => {
    for (const status of [500, 502, 504]) {
      const e = classifyGraphResponse({ status }, { sending: true });
      expect(e.code).toBe('GRAPH_OUTCOME_UNKNOWN');
      expect(e.retryable).toBe(false);
    }
    expect(classifyGraphResponse({ status: 503 }, { sending: true }).code).toBe('GRAPH_UNAVAILABLE');
    expect(classifyGraphResponse({ status: 429 }, { sending: true }).code).toBe('GRAPH_THROTTLED');
  });

  it('keeps the Graph message short in the detail', () => {
    expect(
      classifyGraphResponse({ status: 400, code: 'X', message: 'y'.repeat(5000) }).detail?.length,
    ).toBeLessThan(500);
  });
});

describe('classifyTransportError', () => {
  const fetchFailed = (code: string) =>
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code }) });

  it('knows a refused connection never reached Graph, even for sendMail', () => {
    expect(classifyTransportError(fetchFailed('ECONNREFUSED'), { sending: true }).code).toBe(
      'GRAPH_UNAVAILABLE',
    );
    expect(classifyTransportError(fetchFailed('ENOTFOUND'), { sending: true }).code).toBe(
      'GRAPH_UNAVAILABLE',
    );
  });

  it('calls a lost answer to a sending request an unknown outcome, and a retryable failure otherwise', () => {
    const closed = fetchFailed('UND_ERR_SOCKET');
    expect(classifyTransportError(closed, { sending: true }).code).toBe('GRAPH_OUTCOME_UNKNOWN');
    expect(classifyTransportError(closed, { sending: false }).code).toBe('GRAPH_UNAVAILABLE');
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyTransportError(timeout, { sending: true }).code).toBe('GRAPH_OUTCOME_UNKNOWN');
    expect(classifyTransportError(timeout, { sending: true }).detail).toMatch(/TimeoutError/);
  });
});

describe('classifyCredentialError', () => {
  it('names the OAuth error and AADSTS code but repeats nothing else from the answer', () => {
    const err = Object.assign(
      new Error('AADSTS7000215: Invalid client secret provided. Secret hint: abc~XYZ'),
      { name: 'AuthenticationError', errorResponse: { error: 'invalid_client' } },
    );
    const e = classifyCredentialError(err);
    expect(e.code).toBe('GRAPH_TOKEN_FAILED');
    expect(e.detail).toBe('AuthenticationError invalid_client AADSTS7000215');
    expect(e.cause).toBe(err);
  });

  it('points at AZURE_AUTHORITY_HOST when the authority metadata cannot be resolved', () => {
    const e = classifyCredentialError(
      Object.assign(new Error('endpoints_resolution_error: Endpoints cannot be resolved'), {
        name: 'CredentialUnavailableError',
      }),
    );
    expect(e.detail).toMatch(/AZURE_AUTHORITY_HOST/);
  });
});

import type { HttpHandler, HttpMethod } from '@azure/functions';

import type { ServicesGetter } from '../services';
import { makeDiagnosticsHandler } from './diagnostics-handler';
import { makeDeepHealthHandler, makeHealthHandler } from './health-handler';
import { makeMessageStatusHandler } from './message-status-handler';
import { makeSendMessageHandler } from './post-message-handler';
import { makeAdminHandler } from './admin-handler';
import { makeConsentCallbackHandler } from './consent-callback-handler';

/**
 * The HTTP functions of the app in one table: functions/index.ts registers every row with the Functions
 * host and the local host (dev/function-host) serves the same rows, so the routes served locally are the
 * routes deployed. A new HTTP function is one more row here. Routes are relative to the host's `/api` prefix.
 */
export interface HttpFunctionDefinition {
  name: string;
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function';
  make(getServices: ServicesGetter): HttpHandler;
}

export const HTTP_FUNCTIONS: readonly HttpFunctionDefinition[] = [
  // The edge listener delivers one message (core/wire.ts).
  {
    name: 'sendMessage',
    route: 'v1/messages',
    methods: ['POST'],
    authLevel: 'function',
    make: makeSendMessageHandler,
  },
  // The recorded state of a message, for the site that sent it.
  {
    name: 'messageStatus',
    route: 'v1/messages/{id}',
    methods: ['GET'],
    authLevel: 'function',
    make: makeMessageStatusHandler,
  },
  // Liveness (anonymous) and the deep check (Graph token, roles, storage): two functions because the host
  // enforces the function key per function, not per query string.
  {
    name: 'health',
    route: 'health',
    methods: ['GET'],
    authLevel: 'anonymous',
    make: () => makeHealthHandler(),
  },
  {
    name: 'healthDeep',
    route: 'health/deep',
    methods: ['GET'],
    authLevel: 'function',
    make: makeDeepHealthHandler,
  },
  // What `doctor` asks the cloud side (function key + site signature).
  {
    name: 'diagnostics',
    route: 'v1/diagnostics',
    methods: ['GET'],
    authLevel: 'function',
    make: makeDiagnosticsHandler,
  },
  // The admin API (docs/multi-tenant.md): the function key here, and the admin key checked by the handler.
  ...['v1/admin/{kind}', 'v1/admin/{kind}/{id}', 'v1/admin/{kind}/{id}/{action}'].map(
    (route, i): HttpFunctionDefinition => ({
      name: ['adminCollection', 'adminItem', 'adminAction'][i] as string,
      route,
      methods: ['GET', 'POST', 'DELETE'],
      authLevel: 'function',
      make: makeAdminHandler,
    }),
  ),
  {
    // Entra redirects the customer admin's browser here: no key possible; the handler trusts only its `state`.
    name: 'consentCallback',
    route: 'v1/consent/callback',
    methods: ['GET'],
    authLevel: 'anonymous',
    make: makeConsentCallbackHandler,
  },
];

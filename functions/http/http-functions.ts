import type { HttpHandler, HttpMethod } from '@azure/functions';

import { lazyHandler } from '../lazy-handler';
import type { ServicesGetter } from '../services';

/**
 * A row's handler factory whose module is imported at the first request (functions/lazy-handler.ts): the app's
 * entry imports this table, and a static import of the handlers would load everything they use at start-up.
 */
function lazyHttp(
  load: () => Promise<(getServices: ServicesGetter) => HttpHandler>,
): (getServices: ServicesGetter) => HttpHandler {
  return (getServices) => lazyHandler(async () => (await load())(getServices));
}

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
  /**
   * True when the handler never calls the services getter: the entry then does not import the composition
   * root (the storage and identity SDKs) before it, so a liveness probe after a cold start stays cheap.
   */
  withoutServices?: true;
}

export const HTTP_FUNCTIONS: readonly HttpFunctionDefinition[] = [
  // The edge listener delivers one message (core/wire.ts).
  {
    name: 'sendMessage',
    route: 'v1/messages',
    methods: ['POST'],
    authLevel: 'function',
    make: lazyHttp(async () => (await import('./post-message-handler.js')).makeSendMessageHandler),
  },
  // The recorded state of a message, for the site that sent it.
  {
    name: 'messageStatus',
    route: 'v1/messages/{id}',
    methods: ['GET'],
    authLevel: 'function',
    make: lazyHttp(async () => (await import('./message-status-handler.js')).makeMessageStatusHandler),
  },
  // Liveness (anonymous) and the deep check (Graph token, roles, storage): two functions because the host
  // enforces the function key per function, not per query string.
  {
    name: 'health',
    route: 'health',
    methods: ['GET'],
    authLevel: 'anonymous',
    make: lazyHttp(async () => {
      const { makeHealthHandler } = await import('./health-handler.js');
      return () => makeHealthHandler();
    }),
    withoutServices: true,
  },
  {
    name: 'healthDeep',
    route: 'health/deep',
    methods: ['GET'],
    authLevel: 'function',
    make: lazyHttp(async () => (await import('./health-handler.js')).makeDeepHealthHandler),
  },
  // What `doctor` asks the cloud side (function key + site signature).
  {
    name: 'diagnostics',
    route: 'v1/diagnostics',
    methods: ['GET'],
    authLevel: 'function',
    make: lazyHttp(async () => (await import('./diagnostics-handler.js')).makeDiagnosticsHandler),
  },
  // The admin API (docs/multi-tenant.md): the function key here, and the admin key checked by the handler.
  ...['v1/admin/{kind}', 'v1/admin/{kind}/{id}', 'v1/admin/{kind}/{id}/{action}'].map(
    (route, i): HttpFunctionDefinition => ({
      name: ['adminCollection', 'adminItem', 'adminAction'][i] as string,
      route,
      methods: ['GET', 'POST', 'DELETE'],
      authLevel: 'function',
      make: lazyHttp(async () => (await import('./admin-handler.js')).makeAdminHandler),
    }),
  ),
  {
    // Entra redirects the customer admin's browser here: no key possible; the handler trusts only its `state`.
    name: 'consentCallback',
    route: 'v1/consent/callback',
    methods: ['GET'],
    authLevel: 'anonymous',
    make: lazyHttp(async () => (await import('./consent-callback-handler.js')).makeConsentCallbackHandler),
  },
];

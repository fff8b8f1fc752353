import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  Client,
  ResponseType,
  TelemetryHandler,
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';

import { BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import {
  classifyCredentialError,
  classifyGraphResponse,
  classifyTransportError,
  graphFailureOf,
} from './classify-graph-failure';
import { httpsRequest } from './https-request';
import { slicedBody, type SlicedBody } from './sliced-body';

/**
 * The one door to Microsoft Graph: @microsoft/microsoft-graph-client v3 with a custom middleware chain.
 *
 * Why a custom chain: the default one contains the SDK RetryHandler, which silently repeats POSTs on
 * 429/503/504 — and sendMail is not idempotent (docs/design/platform-facts.md §A3). Here nothing is retried below us; callers
 * decide. The chain is: probe (keeps the raw error, counts) → AuthenticationHandler (bearer only for the Graph
 * host: `customHosts`) → TelemetryHandler (client-request-id) → node:https with a timeout (https-request.ts),
 * which writes a body slice by slice as the socket drains, so a message's bytes never exist whole twice.
 * Not fetch: it copies a body whole before sending, and one HTTP stack for all Graph requests (upload PUTs
 * too) means undici is never loaded in the function at all.
 */

export interface CallMeter {
  graphCalls: number;
  bytesSent: number;
}

export interface GraphCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path under /v1.0, e.g. `/users/x%40y/sendMail`. */
  path: string;
  /** A SlicedBody for requests that carry message or attachment bytes: it never exists whole in memory. */
  body?: string | SlicedBody;
  contentType?: string;
  /** A POST that delivers mail: a lost answer is GRAPH_OUTCOME_UNKNOWN, never retryable. */
  sending: boolean;
  /** Path shape for logs, without the mailbox (e.g. `POST /users/{m}/sendMail`). */
  route: string;
  meter: CallMeter;
}

export interface GraphAnswer {
  status: number;
  headers: Headers;
  requestId?: string;
  /** Parsed JSON body, when there was one. */
  json?: unknown;
}

/**
 * Per-request channel between our middlewares (MiddlewareControl looks options up by constructor). The
 * body travels here, past the SDK, which would JSON.stringify any body that is not a string or Buffer.
 */
class CallProbe implements MiddlewareOptions {
  error: unknown;
  constructor(
    readonly meter: CallMeter,
    readonly body?: SlicedBody,
  ) {}
}

function probeOf(context: Context): CallProbe | undefined {
  return context.middlewareControl?.getMiddlewareOptions(CallProbe) as CallProbe | undefined;
}

/** First in the chain: remembers the raw error, which GraphErrorHandler would flatten into a GraphError. */
class ProbeHandler implements Middleware {
  #next?: Middleware;
  async execute(context: Context): Promise<void> {
    try {
      await this.#next?.execute(context);
    } catch (e) {
      const probe = probeOf(context);
      if (probe) probe.error = e;
      throw e;
    }
  }
  setNext(next: Middleware): void {
    this.#next = next;
  }
}

/** Last in the chain: the actual request, bounded by a timeout, counted once it leaves. */
class HttpsHandler implements Middleware {
  readonly #timeoutMs: number;
  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }
  async execute(context: Context): Promise<void> {
    const probe = probeOf(context);
    if (!probe) throw new BridgeError('INTERNAL', { detail: 'Graph request without its CallProbe' });
    probe.meter.graphCalls += 1;
    probe.meter.bytesSent += probe.body?.byteLength ?? 0;
    context.response = await httpsRequest(
      typeof context.request === 'string' ? context.request : context.request.url,
      { method: context.options?.method ?? 'GET', headers: requestHeaders(context) },
      probe.body,
      this.#timeoutMs,
    );
  }
}

/** The headers the middlewares set (Authorization, client-request-id, SdkVersion, Content-Type). */
function requestHeaders(context: Context): Headers {
  const headers = new Headers(typeof context.request === 'string' ? undefined : context.request.headers);
  new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]).forEach((value, name) => {
    headers.set(name, value);
  });
  return headers;
}

export interface GraphTransportOptions {
  graphEndpoint: string;
  credential: TokenCredential;
  /** Token scope; default `{graphEndpoint origin}/.default`. */
  scope?: string;
  requestTimeoutMs: number;
  logger: Logger;
}

export class GraphTransport {
  readonly #client: Client;
  readonly #logger: Logger;
  readonly scope: string;
  readonly credential: TokenCredential;

  constructor(opts: GraphTransportOptions) {
    const endpoint = new URL(opts.graphEndpoint);
    if (endpoint.protocol !== 'https:') {
      // The SDK attaches tokens to https URLs only (docs/design/platform-facts.md §B7): http would send unauthenticated.
      throw new BridgeError('CONFIG_INVALID', {
        detail: `BRIDGE_GRAPH_ENDPOINT must be https (got ${endpoint.protocol})`,
      });
    }
    this.#logger = opts.logger;
    this.scope = opts.scope ?? `${endpoint.origin}/.default`;
    this.credential = classifyingCredential(opts.credential, opts.logger);
    const authProvider = new TokenCredentialAuthenticationProvider(this.credential, { scopes: [this.scope] });
    this.#client = Client.initWithMiddleware({
      // No /v1.0 here: the client appends defaultVersion itself.
      baseUrl: `${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}/`,
      // Host without port: that is how the SDK compares (GraphRequestUtil.isValidEndpoint).
      customHosts: new Set([endpoint.hostname.toLowerCase()]),
      middleware: [
        new ProbeHandler(),
        new AuthenticationHandler(authProvider),
        new TelemetryHandler(),
        new HttpsHandler(opts.requestTimeoutMs),
      ],
    });
  }

  /** One Graph request. Resolves with any HTTP answer; rejects only with a BridgeError when there was none. */
  async call(c: GraphCall): Promise<GraphAnswer> {
    const body = typeof c.body === 'string' ? slicedBody([c.body]) : c.body;
    const probe = new CallProbe(c.meter, body);
    let request = this.#client.api(c.path).middlewareOptions([probe]).responseType(ResponseType.RAW);
    if (c.contentType) request = request.header('Content-Type', c.contentType);
    const startedMs = performance.now();
    let response: Response;
    try {
      const raw: unknown =
        c.method === 'GET'
          ? await request.get()
          : c.method === 'DELETE'
            ? await request.delete()
            : await request.post(''); // the body goes in the probe
      response = raw as Response;
    } catch (e) {
      const raw = probe.error ?? e;
      const err: BridgeError = isTokenFailure(raw)
        ? raw
        : classifyTransportError(raw, { sending: c.sending });
      this.#logger.warn({
        event: 'GRAPH_REQUEST',
        method: c.method,
        route: c.route,
        status: 0,
        code: err.code,
        durationMs: Math.round(performance.now() - startedMs),
      });
      throw err;
    }
    const answer: GraphAnswer = { status: response.status, headers: response.headers };
    const requestId = response.headers.get('request-id') ?? undefined;
    if (requestId) answer.requestId = requestId;
    if (response.status !== 202 && response.status !== 204) {
      try {
        const text = await response.text();
        if (text) answer.json = JSON.parse(text);
      } catch {
        // An unreadable body: the status still decides.
      }
    }
    const fields = {
      event: 'GRAPH_REQUEST' as const,
      method: c.method,
      route: c.route,
      status: response.status,
      requestId: answer.requestId ?? innerRequestId(answer.json),
      durationMs: Math.round(performance.now() - startedMs),
    };
    if (response.ok) this.#logger.debug(fields);
    else this.#logger.info(fields);
    return answer;
  }
}

function isTokenFailure(e: unknown): e is BridgeError {
  return e instanceof BridgeError && e.code === 'GRAPH_TOKEN_FAILED';
}

function innerRequestId(json: unknown): string | undefined {
  const inner = (json as { error?: { innerError?: Record<string, unknown> } } | undefined)?.error?.innerError;
  const id = inner?.['request-id'];
  return typeof id === 'string' ? id : undefined;
}

/** Throws the classified BridgeError unless the answer has one of the expected statuses. */
export function expectStatus(
  answer: GraphAnswer,
  ok: readonly number[],
  opts: { sending?: boolean } = {},
): GraphAnswer {
  if (ok.includes(answer.status)) return answer;
  const requestId = answer.requestId ?? innerRequestId(answer.json);
  throw classifyGraphResponse(
    graphFailureOf(answer.status, answer.json, answer.headers.get('retry-after'), requestId, Date.now()),
    opts,
  );
}

/**
 * Wraps the credential so a token failure surfaces as GRAPH_TOKEN_FAILED with an admin-readable detail, and
 * logs acquisition without the token. MSAL caches inside the credential; a new token is logged once.
 */
function classifyingCredential(inner: TokenCredential, logger: Logger): TokenCredential {
  let lastExpiresOn = 0;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
      let token: AccessToken | null;
      try {
        token = await inner.getToken(scopes, options);
      } catch (e) {
        const err = classifyCredentialError(e);
        logger.error({ event: 'TOKEN_FAILED', code: err.code, detail: err.detail });
        throw err;
      }
      if (!token) {
        const err = classifyCredentialError(new Error('credential returned no token'));
        logger.error({ event: 'TOKEN_FAILED', code: err.code, detail: err.detail });
        throw err;
      }
      if (token.expiresOnTimestamp !== lastExpiresOn) {
        lastExpiresOn = token.expiresOnTimestamp;
        logger.info({ event: 'TOKEN_ACQUIRED', expiresOn: new Date(token.expiresOnTimestamp).toISOString() });
      }
      return token;
    },
  };
}

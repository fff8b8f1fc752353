import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { InvocationContext } from '@azure/functions';

import { silentLogger, type Logger } from '../../core/log';
import type { FunctionConfig } from '../../functions/config';
import { createFunctionServices, type ServiceOverrides } from '../../functions/function-services';
import { HTTP_FUNCTIONS, type HttpFunctionDefinition } from '../../functions/http/http-functions';
import { makeSendQueuedHandler, SEND_QUEUED_FUNCTION } from '../../functions/delivery/queued-delivery';
import type { FunctionServices } from '../../functions/services';
import { createStorageClients } from '../../functions/state/storage-clients';
import { QueuePoller } from './host-queue';
import { streamBody, toHttpRequest, writeHttpResponse } from './host-request';

/**
 * A small stand-in for the Azure Functions host (Core Tools cannot be installed on our machines): serves
 * the same HTTP routes with the same handlers under /api, and runs the queue trigger against the
 * configured storage (Azurite locally). `npm start` and the end-to-end tests use it.
 */
export interface LocalHostOptions {
  /** Default 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
  /**
   * Key required in `x-functions-key` (or `?code=`) on authLevel 'function' routes, as Azure requires a
   * function key; unset = no key check (BRIDGE_LOCAL_FUNCTION_KEY, local host only).
   */
  functionKey?: string;
  /** Run the queue trigger (default true). */
  queueTrigger?: boolean;
  queue?: { batchSize?: number; visibilityTimeoutMs?: number; maxPollingIntervalMs?: number };
  /** Handler tuning and mailer knobs (tests shorten the waits). */
  overrides?: ServiceOverrides;
  /** Prebuilt services (tests that need to look inside); default: built from `config`. */
  services?: FunctionServices;
  /** Host lines (HOST_STARTED, poison moves). Default silent. */
  logger?: Logger;
  /** Where the functions' own log lines go (context.info & co). Default: stdout. */
  logHandler?: (level: string, ...args: unknown[]) => void;
}

export interface LocalFunctionHost {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:7071 (routes are under /api). */
  url: string;
  services: FunctionServices;
  close(): Promise<void>;
}

interface CompiledRoute {
  def: HttpFunctionDefinition;
  pattern: RegExp;
  handler: ReturnType<HttpFunctionDefinition['make']>;
}

export async function startLocalFunctionHost(
  config: FunctionConfig,
  options: LocalHostOptions = {},
): Promise<LocalFunctionHost> {
  const services = options.services ?? createFunctionServices(config, options.overrides);
  const logger = options.logger ?? silentLogger;
  const logHandler = options.logHandler ?? ((_level: string, ...args: unknown[]) => console.log(...args));
  const routes: CompiledRoute[] = HTTP_FUNCTIONS.map((def) => ({
    def,
    pattern: routePattern(def.route),
    handler: def.make(() => services),
  }));

  const server = createServer((req, res) => {
    void serve(req, res, routes, options.functionKey, logHandler).catch((err: unknown) => {
      logger.error({ event: 'REQUEST_REJECTED', detail: 'local host failed to answer', err });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.requestTimeout = 0; // large uploads on slow links; the handlers bound their own work
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostPart}:${address.port}`;

  let poller: QueuePoller | undefined;
  if (options.queueTrigger !== false) {
    const clients = createStorageClients(config.storage, {
      table: config.stateTable,
      container: config.blobContainer,
      queue: config.queueName,
    });
    const poison = createStorageClients(config.storage, {
      table: config.stateTable,
      container: config.blobContainer,
      queue: `${config.queueName}-poison`,
    }).queue;
    await clients.ensureCreated();
    poller = new QueuePoller(
      clients.queue,
      poison,
      makeSendQueuedHandler(() => services),
      {
        functionName: SEND_QUEUED_FUNCTION,
        maxDequeueCount: services.tuning.maxDequeueCount,
        logger,
        logHandler,
        ...options.queue,
      },
    );
    poller.start();
  }
  logger.info({
    event: 'HOST_STARTED',
    url,
    queueTrigger: poller !== undefined,
    functionKeyRequired: Boolean(options.functionKey),
  });

  return {
    url,
    services,
    close: async () => {
      await poller?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      logger.info({ event: 'HOST_STOPPED', url });
    },
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  routes: CompiledRoute[],
  functionKey: string | undefined,
  logHandler: (level: string, ...args: unknown[]) => void,
): Promise<void> {
  const baseUrl = `http://${req.headers.host ?? 'localhost'}`;
  const url = new URL(req.url ?? '/', baseUrl);
  const matches = routes.map((r) => ({ r, m: r.pattern.exec(url.pathname) })).filter((x) => x.m);
  const match = matches.find((x) => x.r.def.methods.includes((req.method ?? 'GET') as never));
  if (!match?.m) {
    res.writeHead(matches.length > 0 ? 405 : 404, { connection: 'close' }).end();
    req.resume();
    return;
  }
  if (
    match.r.def.authLevel === 'function' &&
    functionKey &&
    !keyMatches(req.headers['x-functions-key'] ?? url.searchParams.get('code'), functionKey)
  ) {
    // What Azure answers without a valid key: 401, empty body.
    res.writeHead(401, { connection: 'close' }).end();
    req.resume();
    return;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const body = hasBody ? streamBody(req) : undefined;
  const params = Object.fromEntries(
    Object.entries(match.m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
  );
  const request = toHttpRequest(req, baseUrl, params, body);
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: match.r.def.name,
    logHandler,
  });
  const result = await match.r.handler(request, context);
  // A handler that stopped reading (oversize body) leaves bytes on the socket: answer, then close it.
  const unread = body !== undefined && (body.abandoned() || !req.readableEnded);
  await writeHttpResponse(res, result, unread);
  if (unread) req.socket.destroySoon();
}

function keyMatches(given: string | string[] | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** 'v1/messages/{id}' → /^\/api\/v1\/messages\/(?<id>[^/]+)$/ */
function routePattern(route: string): RegExp {
  const source = route
    .split('/')
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      return param ? `(?<${param[1]}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^/api/${source}/?$`);
}

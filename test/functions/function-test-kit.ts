import { randomBytes } from 'node:crypto';

import {
  HttpRequest,
  InvocationContext,
  type HttpRequestInit,
  type HttpResponseInit,
} from '@azure/functions';
import { inject } from 'vitest';

import type { Envelope } from '../../core/envelope';
import {
  EMPTY_SHA256,
  frameHead,
  sha256Hex,
  signedHeaders,
  WIRE_PATH,
  type WireResult,
} from '../../core/wire';
import { loadFunctionConfig, type FunctionConfig } from '../../functions/config';
import { createFunctionServices, type ServiceOverrides } from '../../functions/function-services';
import { startFakeGraph, type GraphSandbox, type SandboxOptions } from '../helpers/fake-graph';
import {
  DEEP_HEALTH_PATH,
  makeDeepHealthHandler,
  type DeepHealth,
} from '../../functions/http/health-handler';
import { makeSendMessageHandler } from '../../functions/http/post-message-handler';
import type { FunctionServices, ServicesGetter } from '../../functions/services';
import { uniqueStorageNames } from './storage-names';

/**
 * What the function tests share: the Graph sandbox (a real https fake of Entra + Graph, trusted through
 * NODE_EXTRA_CA_CERTS), Azurite with names unique to the test file, a configuration as app settings, and
 * requests signed the way the edge signs them.
 */
export const SITE = 'hq';
export const SITE_SECRET = 'hq-secret-0123456789abcdef';
export const OTHER_SITE = 'branch';
export const OTHER_SECRET = 'branch-secret-0123456789abcdef';
export const SENDER = 'scanner@contoso.com';

export interface Kit {
  graph: GraphSandbox;
  config: FunctionConfig;
  services: FunctionServices;
  close(): Promise<void>;
}

export const FAST_TUNING: ServiceOverrides['tuning'] = {
  attemptStaleMs: 60_000,
  maxAttemptMs: 60_000,
  queueRetryDelaysMs: [1000],
  pacingWaitMs: 200,
  sentItemsLagMs: 0,
  reconcileWindowMs: 0,
};

export async function startKit(
  name: string,
  opts: {
    settings?: Record<string, string>;
    sandbox?: Partial<SandboxOptions>;
    overrides?: ServiceOverrides;
  } = {},
): Promise<Kit> {
  const graph = await startFakeGraph(opts.sandbox);
  const config = kitConfig(graph, name, opts.settings);
  const services = createFunctionServices(config, {
    ...opts.overrides,
    tuning: { ...FAST_TUNING, ...opts.overrides?.tuning },
  });
  return { graph, config, services, close: () => graph.close() };
}

/** The kit's app settings against a Graph sandbox, with storage names unique to `name`; `settings` win. */
export function kitConfig(
  graph: GraphSandbox,
  name: string,
  settings: Record<string, string> = {},
): FunctionConfig {
  const names = uniqueStorageNames(name);
  return loadFunctionConfig({
    AzureWebJobsStorage: inject('azuriteConnectionString'),
    AZURE_TENANT_ID: 'tenant-home',
    AZURE_CLIENT_ID: 'app-client-id',
    AZURE_CLIENT_SECRET: 'app-client-secret',
    AZURE_AUTHORITY_HOST: graph.authorityHost,
    BRIDGE_GRAPH_ENDPOINT: graph.url,
    BRIDGE_ALLOWED_SENDERS: SENDER,
    BRIDGE_SITE_SECRETS: JSON.stringify({ [SITE]: SITE_SECRET, [OTHER_SITE]: OTHER_SECRET }),
    BRIDGE_STATE_TABLE: names.table,
    BRIDGE_BLOB_CONTAINER: names.container,
    BRIDGE_QUEUE_NAME: names.queue,
    BRIDGE_REGISTRY_TABLE: `${names.table}r`,
    ...settings,
  });
}

export function newMessageId(): string {
  return `msg-${randomBytes(8).toString('hex')}`;
}

export function envelopeFor(messageId: string, over: Partial<Envelope> = {}): Envelope {
  return {
    messageId,
    siteId: SITE,
    mailFrom: SENDER,
    rcptTo: ['alice@fabrikam.com', 'bob@fabrikam.com'],
    clientAddress: '192.168.1.20',
    helo: 'copier-3f',
    receivedAt: new Date().toISOString(),
    ...over,
  };
}

/** A plain message; `bodyBytes` pads the text so the size can be chosen. */
export function mimeMessage(opts: { subject?: string; bodyBytes?: number; from?: string } = {}): Buffer {
  const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
  const body = line.repeat(Math.max(1, Math.ceil((opts.bodyBytes ?? 100) / line.length)));
  return Buffer.from(
    [
      `From: Scanner <${opts.from ?? SENDER}>`,
      'To: alice@fabrikam.com, bob@fabrikam.com',
      `Subject: ${opts.subject ?? 'Scan to e-mail'}`,
      'Date: Mon, 02 Mar 2026 10:00:00 +0000',
      'Message-ID: <scan-1@copier.local>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
}

export function frame(envelope: Envelope, mime: Buffer): Buffer {
  return Buffer.concat([frameHead(envelope), mime]);
}

export interface PostOptions {
  site?: string;
  secret?: string;
  now?: Date;
  /** Signed digest; default the digest of the body. */
  bodySha256?: string;
  headerMessageId?: string;
}

export function signedPostHeaders(
  body: Buffer,
  messageId: string,
  opts: PostOptions = {},
): Record<string, string> {
  return {
    'content-type': 'application/vnd.smtp-graph-bridge.v1',
    ...signedHeaders({
      siteId: opts.site ?? SITE,
      messageId: opts.headerMessageId ?? messageId,
      bodySha256: opts.bodySha256 ?? sha256Hex(body),
      secret: opts.secret ?? SITE_SECRET,
      ...(opts.now ? { now: opts.now } : {}),
    }),
  };
}

/** A POST as the Functions host builds it for a buffered body (the documented test constructor). */
export function postRequest(body: Buffer, messageId: string, opts: PostOptions = {}): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: `https://bridge.example${WIRE_PATH}`,
    headers: signedPostHeaders(body, messageId, opts),
    body: { bytes: body },
  });
}

/** A POST whose body is a stream, as the host hands it over with enableHttpStream. */
export function streamedPostRequest(
  stream: ReadableStream<Uint8Array>,
  headers: Record<string, string>,
): HttpRequest {
  const init: HttpRequestInit & { nativeRequest: Request } = {
    nativeRequest: new Request(`https://bridge.example${WIRE_PATH}`, {
      method: 'POST',
      headers,
      body: stream,
      duplex: 'half',
    } as RequestInit),
  };
  return new HttpRequest(init);
}

export function statusRequest(messageId: string, opts: { site?: string; secret?: string } = {}): HttpRequest {
  const path = `${WIRE_PATH}/${messageId}`;
  const headers = signedHeaders({
    siteId: opts.site ?? SITE,
    messageId,
    bodySha256: EMPTY_SHA256,
    secret: opts.secret ?? SITE_SECRET,
    method: 'GET',
    path,
  });
  return new HttpRequest({
    method: 'GET',
    url: `https://bridge.example${path}`,
    headers,
    params: { id: messageId },
  });
}

export interface Posted {
  id: string;
  res: HttpResponseInit;
  body: WireResult;
  inv: CapturedContext;
}

/** Frames and signs a message as the edge does and hands it to the send handler as the host does. */
export async function postMessage(
  services: FunctionServices,
  opts: { id?: string; mime?: Buffer; envelope?: Partial<Envelope>; post?: PostOptions } = {},
): Promise<Posted> {
  const id = opts.id ?? newMessageId();
  const inv = invocation();
  const framed = frame(envelopeFor(id, opts.envelope), opts.mime ?? mimeMessage());
  const res = await makeSendMessageHandler(() => services)(postRequest(framed, id, opts.post), inv.context);
  return { id, res, body: bodyOf(res), inv };
}

/** A GET signed by a site as the edge signs it (SGB/2 over path and query; empty body; a doctor- nonce). */
export function signedGetRequest(
  path: string,
  opts: { site?: string; secret?: string; query?: string; nonce?: string; now?: Date } = {},
): HttpRequest {
  const headers = signedHeaders({
    siteId: opts.site ?? SITE,
    messageId: opts.nonce ?? `doctor-${randomBytes(8).toString('hex')}`,
    bodySha256: EMPTY_SHA256,
    secret: opts.secret ?? SITE_SECRET,
    method: 'GET',
    path,
    ...(opts.query !== undefined ? { query: opts.query } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const search = opts.query ? `?${opts.query.replace(/^\?/, '')}` : '';
  return new HttpRequest({ method: 'GET', url: `https://bridge.example${path}${search}`, headers });
}

/** GET /api/health/deep through its handler, signed by a site (default hq), with the services `getServices` gives (or throws). */
export async function callDeepHealth(
  getServices: ServicesGetter,
  opts: { site?: string; secret?: string; request?: HttpRequest } = {},
): Promise<{ status: number | undefined; body: DeepHealth; res: HttpResponseInit; inv: CapturedContext }> {
  const inv = invocation('healthDeep');
  const res = await makeDeepHealthHandler(getServices)(
    opts.request ?? signedGetRequest(DEEP_HEALTH_PATH, opts),
    inv.context,
  );
  return { status: res.status, body: res.jsonBody as DeepHealth, res, inv };
}

export interface CapturedContext {
  context: InvocationContext;
  lines: string[];
  events(): Array<Record<string, unknown>>;
}

export function invocation(
  functionName = 'sendMessage',
  triggerMetadata?: Record<string, unknown>,
): CapturedContext {
  const lines: string[] = [];
  const context = new InvocationContext({
    functionName,
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
    ...(triggerMetadata ? { triggerMetadata } : {}),
  });
  return {
    context,
    lines,
    events: () =>
      lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
}

export function bodyOf(res: HttpResponseInit): WireResult {
  return res.jsonBody as WireResult;
}

export function header(res: HttpResponseInit, name: string): string | undefined {
  return new Headers(res.headers as ConstructorParameters<typeof Headers>[0]).get(name) ?? undefined;
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import { silentLogger } from '../../core/log';
import { isGraphAudience, TokenSigner, type AccessTokenClaims } from './access-token';
import { adminRoute } from './admin-routes';
import { Directory } from './directory';
import { DEFAULT_ROLES, jwks, openIdConfiguration, tokenEndpoint } from './entra';
import { adminConsentEndpoint, ConsentModel } from './consent';
import { FaultQueue, faultReply, MailboxSlots } from './fault-queue';
import { MailRoutes, type MailCall } from './mail-routes';
import { MailboxRateWindow, ThrottleCounter } from './mailbox-limits';
import { MessageStore } from './message-store';
import type { GraphSandbox, SandboxOptions, SandboxRequestLog, TokenRequestLog } from './options';
import { graphError, readBody, writeReply, type Reply } from './reply';
import { header, type RequestContext } from './request-context';
import { matchRoute, type RouteMatch } from './routes';
import { SentItems } from './sent-items';
import { UploadRoutes } from './upload-routes';

/**
 * A Microsoft Graph + Entra ID look-alike on one https port: the test fake of every Graph test, and the
 * sandbox endpoint of `npm start` that keeps every message it would have sent (product code).
 *
 * One request goes: read the body (4 MiB cap → 413) → pending fault? → route → bearer token → mailbox →
 * per-app-and-mailbox concurrency (> 4 → 429) → per-mailbox message rate when enabled (sendMail and /send
 * over mailboxPerMinute in 60 s → 429) → handler → answer with a `request-id` header, Graph-shaped errors.
 */

const LOG_LIMIT = 10_000;
const ADMIN_BODY_LIMIT = 64 * 1024;

export async function startGraphSandbox(opts: SandboxOptions): Promise<GraphSandbox> {
  const logger = opts.logger ?? silentLogger;
  const maxRequestBytes = opts.maxRequestBytes ?? 4 * 1024 * 1024;
  const maxMessageBytes = opts.maxMessageBytes ?? 35 * 1024 * 1024;
  const signer = new TokenSigner();
  const consent = new ConsentModel(opts.consentedTenants);
  const directory = new Directory(opts);
  const store = new MessageStore({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    maxKept: opts.maxKeptMessages ?? 500,
    maxKeptBytes: opts.maxKeptBytes ?? 512 * 1024 * 1024,
    logger,
  });
  await store.loadFromDisk();
  const sentItems = new SentItems(opts.sentItemsLagMs ?? 0);
  const mail = new MailRoutes({ directory, store, sentItems, maxMessageBytes });
  const uploads = new UploadRoutes({ mail, directory, maxMessageBytes });
  const faults = new FaultQueue();
  const slots = new MailboxSlots(opts.mailboxConcurrency ?? 4);
  const rate = opts.mailboxPerMinute !== undefined ? new MailboxRateWindow(opts.mailboxPerMinute) : undefined;
  const throttles = new ThrottleCounter();
  const requestLog: SandboxRequestLog[] = [];
  const tokenLog: TokenRequestLog[] = [];
  const keep = <T>(log: T[], entry: T) => {
    log.push(entry);
    if (log.length > LOG_LIMIT) log.shift();
  };

  function throttled(
    ctx: RequestContext,
    kind: 'concurrency' | 'rate',
    entry: SandboxRequestLog,
    retryAfterSec: number,
    message: string,
  ): Reply {
    throttles.add(kind);
    entry.throttled = kind;
    return graphError(ctx, 429, 'ApplicationThrottled', message, { 'Retry-After': String(retryAfterSec) });
  }

  /** Bearer check, mailbox lookup and concurrency slot for /v1.0/users/{id}/… routes. */
  function authorize(
    ctx: RequestContext,
    m: RouteMatch,
    res: ServerResponse,
    entry: SandboxRequestLog,
  ): MailCall | Reply {
    const auth = header(ctx, 'authorization') ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (!bearer) return graphError(ctx, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const check = signer.verify(bearer, Math.floor(Date.now() / 1000), isGraphAudience);
    if (!check.ok) return graphError(ctx, 401, 'InvalidAuthenticationToken', check.message);
    const mailbox = directory.find(m.mailbox ?? '', check.claims);
    if ('code' in mailbox) return graphError(ctx, mailbox.status, mailbox.code, mailbox.message);
    // Exchange counts concurrency per app and mailbox: another app's requests do not take this app's slots.
    const release = slots.acquire(`${check.claims.appid ?? ''}|${mailbox.address}`);
    if (!release)
      return throttled(
        ctx,
        'concurrency',
        entry,
        opts.throttleRetryAfterSec ?? 1,
        'Application is over its MailboxConcurrency limit.',
      );
    // 'finish' = the answer is handed to the socket, before the client can read it; 'close' = it went away.
    res.once('finish', release);
    res.once('close', release);
    return {
      ctx,
      route: m.route,
      claims: check.claims,
      mailbox,
      ...(m.messageId ? { messageId: m.messageId } : {}),
      ...(m.folder ? { folder: m.folder } : {}),
    };
  }

  async function handle(
    ctx: RequestContext,
    m: RouteMatch,
    res: ServerResponse,
    tooLarge: boolean,
    entry: SandboxRequestLog,
  ): Promise<Reply> {
    if (tooLarge)
      return graphError(
        ctx,
        413,
        'RequestEntityTooLarge',
        `The request body exceeds the maximum allowed size of ${maxRequestBytes} bytes.`,
      );
    switch (m.route) {
      case 'openid':
        return openIdConfiguration(ctx, m.tenant as string);
      case 'jwks':
        return jwks();
      case 'token':
        return tokenEndpoint(
          ctx,
          { options: opts, signer, consent, log: (e) => keep(tokenLog, e) },
          m.tenant as string,
        );
      case 'adminConsent':
        return adminConsentEndpoint(ctx, consent, m.tenant as string);
      case 'uploadChunk':
        return uploads.putChunk(ctx, m.sessionId as string);
      case 'uploadStatus':
        return uploads.status(ctx, m.sessionId as string);
      case 'uploadCancel':
        return uploads.cancel(ctx, m.sessionId as string);
      case 'admin':
        return adminRoute(ctx, store);
      case 'unknown':
        return graphError(
          ctx,
          400,
          'BadRequest',
          `Resource not found for the segment '${ctx.url.pathname.split('/').filter(Boolean).pop() ?? ''}'.`,
        );
      default:
        break;
    }
    const call = authorize(ctx, m, res, entry);
    if (!('claims' in call)) return call;
    if (rate && (m.route === 'sendMail' || m.route === 'send')) {
      const waitSec = rate.retryAfterSec(call.mailbox.address);
      if (waitSec !== undefined)
        return throttled(
          ctx,
          'rate',
          entry,
          waitSec,
          `Mailbox is over its message rate limit (${rate.perMinute} messages a minute).`,
        );
      const reply = m.route === 'sendMail' ? await mail.sendMail(call) : await mail.send(call);
      if (reply.status === 202) rate.record(call.mailbox.address);
      return reply;
    }
    switch (m.route) {
      case 'getUser':
        return mail.getUser(call);
      case 'listMessages':
        return mail.listMessages(call);
      case 'sendMail':
        return mail.sendMail(call);
      case 'createMessage':
        return mail.createMessage(call);
      case 'deleteMessage':
        return mail.deleteMessage(call);
      case 'addAttachment':
        return mail.addAttachment(call);
      case 'createUploadSession':
        return uploads.createUploadSession(call);
      default:
        return mail.send(call);
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAtMs = performance.timeOrigin + performance.now();
    const requestId = randomUUID();
    const clientRequestId =
      typeof req.headers['client-request-id'] === 'string' ? req.headers['client-request-id'] : undefined;
    res.setHeader('request-id', requestId);
    if (clientRequestId) res.setHeader('client-request-id', clientRequestId);
    const hostHeader = req.headers.host ?? `127.0.0.1:${port}`;
    const origin = `https://${hostHeader}`;
    const url = new URL(req.url ?? '/', origin);
    const otherOrigin = `https://${url.hostname === 'localhost' ? '127.0.0.1' : 'localhost'}:${url.port || port}`;
    const method = req.method ?? 'GET';
    const m = matchRoute(method, url.pathname);
    let read;
    try {
      read = await readBody(req, m.route === 'admin' ? ADMIN_BODY_LIMIT : maxRequestBytes);
    } catch {
      return; // the client went away
    }
    const ctx: RequestContext = {
      method,
      url,
      headers: req.headers,
      body: read.body,
      requestId,
      arrivedAtMs,
      ...(clientRequestId ? { clientRequestId } : {}),
      origin,
      otherOrigin,
    };
    const entry: SandboxRequestLog = {
      at: new Date().toISOString(),
      arrivedAtMs,
      requestId,
      route: m.route,
      method,
      path: url.pathname,
      ...(m.mailbox ? { mailbox: m.mailbox } : {}),
      status: 0,
      bytes: read.size,
      authorization: req.headers.authorization !== undefined,
      ...(clientRequestId ? { clientRequestId } : {}),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      ...(typeof req.headers['content-range'] === 'string'
        ? { contentRange: req.headers['content-range'] }
        : {}),
    };
    keep(requestLog, entry);

    const fault = m.route === 'admin' ? undefined : faults.take(m.route, m.mailbox);
    let reply: Reply | undefined;
    if (!fault || fault.processFirst || fault.action === 'lose-answer') {
      try {
        reply = await handle(ctx, m, res, read.tooLarge, entry);
      } catch (e) {
        logger.error({
          event: 'SANDBOX_REQUEST_REFUSED',
          route: m.route,
          status: 500,
          error: e instanceof Error ? e.message : String(e),
        });
        reply = graphError(
          ctx,
          500,
          'InternalServerError',
          'The Graph sandbox failed to handle the request.',
        );
      }
    }
    if (fault) {
      const action = fault.action ?? 'respond';
      entry.fault = action;
      if (action === 'drop' || action === 'lose-answer') {
        req.socket.destroy();
        return;
      }
      if (action === 'hang') return; // the connection stays open until the client gives up or close()
      reply = faultReply(ctx, m.route, fault);
    }
    const final = reply as Reply;
    entry.status = final.status;
    if (final.status >= 400) {
      const code = (final.json as { error?: { code?: unknown } | string } | undefined)?.error;
      logger.info({
        event: 'SANDBOX_REQUEST_REFUSED',
        route: m.route,
        status: final.status,
        code: typeof code === 'object' ? code?.code : code,
      });
    }
    writeReply(res, final);
  }

  const server = createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    void onRequest(req, res);
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `https://${urlHost}:${port}`;
  logger.info({ event: 'HOST_STARTED', component: 'graph-sandbox', url, dataDir: opts.dataDir });

  return {
    url,
    authorityHost: url,
    port,
    messages: () => store.list(),
    sentCount: (mailbox, internetMessageId) => sentItems.count(mailbox, internetMessageId),
    requests: () => [...requestLog],
    throttles: () => throttles.get(),
    tokenRequests: () => [...tokenLog],
    clear() {
      store.clear();
      sentItems.clear();
      mail.drafts.clear();
      uploads.sessions.clear();
      faults.clear();
      rate?.clear();
      throttles.clear();
      requestLog.length = 0;
      tokenLog.length = 0;
    },
    inject: (fault) => faults.add(fault),
    consent: {
      grant: (t) => consent.grant(t),
      revoke: (t) => consent.revoke(t),
      answerNext: (a) => consent.answerNext(a),
    },
    issueToken(overrides = {}) {
      const nowSec = Math.floor(Date.now() / 1000);
      const claims: AccessTokenClaims = {
        aud: 'https://graph.microsoft.com',
        iss: 'https://sts.windows.net/sandbox/',
        tid: 'sandbox',
        appid: 'sandbox-app',
        roles: opts.roles ?? DEFAULT_ROLES,
        iat: nowSec,
        nbf: nowSec,
        exp: nowSec + 3599,
        ...overrides,
      };
      return signer.sign(claims);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      logger.info({ event: 'HOST_STOPPED', component: 'graph-sandbox', url });
    },
  };
}

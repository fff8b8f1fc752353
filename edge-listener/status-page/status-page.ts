import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

import { MESSAGE_ID_PATTERN } from '../../core/envelope';
import type { Logger } from '../../core/log';
import { type AdminActor, httpStatusOf, type QueueAdmin } from '../admin/queue-admin';
import type { EdgeConfig } from '../config';
import { signedGet } from '../doctor/function-requests';
import type { EdgeEvents } from '../events';
import { type HttpRouter, sendJson } from '../http/router';
import type { Spool } from '../spool/spool';
import { AdminAccess } from './admin-access';
import { ActivitySeries } from './activity-series';
import { CloudStateReader } from './cloud-state';
import { HeaderCache } from './header-cache';
import { PREVIEW_CSP, previewDocument } from './preview-document';
import { recordProxySeen } from './proxy-seen';
import { SandboxClient } from './sandbox-client';
import { loadAssets, registerAssets, securityHeaders } from './static-assets';
import { buildSnapshot } from './status-snapshot';

/**
 * The status page on the listener's HTTP port: `/` and its assets (public: no data in them), and the
 * admin-only JSON and actions the page uses:
 *
 *   GET  /status/api/snapshot                       everything the page shows (status-snapshot.ts)
 *   POST /status/api/retry    {"id": "…"[, "force": true]}  make a waiting or failed message due now; 409
 *                             RESUBMIT_MAY_DUPLICATE when it may have been sent (the page confirms, then forces)
 *   POST /status/api/delete   {"id": "…"}           remove a message from the spool
 *   GET  /status/api/sandbox/preview?id=…           body of a kept message, as a sandboxed document
 *   GET  /status/api/sandbox/attachment?id=…&n=…    attachment n (1-based) of a kept message, as a download
 *   GET  /status/api/sandbox/eml?id=…               the kept message as .eml
 *
 * Access: admin-access.ts. Actions run through QueueAdmin, which logs each one (allowed or refused) as one
 * ADMIN_ACTION. A retry answers the submission id the message now goes out under (a resubmission: `<id>.r<n>`).
 */
export interface StatusPageParts {
  router: HttpRouter;
  spool: Spool;
  /** The one implementation of retry/delete, shared with the CLI's admin API (admin/queue-admin.ts). */
  admin: QueueAdmin;
  events: EdgeEvents;
  config: EdgeConfig;
  logger: Logger;
  smtpPort: () => number;
  smtpConnections: () => number;
  /** Where the page's files are read from; default: embedded in the single-file build, else ./assets. */
  assetsDir?: string;
}

export interface StatusPage {
  /** Stops following the listener's events. */
  close(): void;
}

export const STATUS_API = {
  snapshot: '/status/api/snapshot',
  retry: '/status/api/retry',
  delete: '/status/api/delete',
  preview: '/status/api/sandbox/preview',
  attachment: '/status/api/sandbox/attachment',
  eml: '/status/api/sandbox/eml',
} as const;

const MAX_ACTION_BODY_BYTES = 4096;
const CLOUD_READ_TIMEOUT_MS = 5000;

export function attachStatusPage(p: StatusPageParts): StatusPage {
  const settings = p.config.statusPage;
  let proxyNoted = false;
  const access = new AdminAccess(settings, (header) => {
    // Only worth a warning while address trust is on; once per run is enough for the admin and the doctor.
    if (!settings.loopbackTrust || proxyNoted) return;
    proxyNoted = true;
    recordProxySeen(p.config.dataDir, header);
    p.logger.warn(
      { event: 'ADMIN_PROXY_HEADER', header },
      'the status page is reached through a proxy while BRIDGE_ADMIN_LOOPBACK_TRUST is on',
    );
  });
  const activity = new ActivitySeries();
  const headers = new HeaderCache((id) => p.spool.readHead(id, 64 * 1024));
  const cloud = new CloudStateReader((path, messageId) =>
    signedGet(p.config, path, { messageId, timeoutMs: CLOUD_READ_TIMEOUT_MS }),
  );
  const sandbox = settings.sandboxUrl ? new SandboxClient(settings.sandboxUrl) : undefined;
  const unfollow = activity.follow(p.events);
  const onAccepted = ({ id }: { id: string }) => void headers.remember(id);
  p.events.on('accepted', onAccepted);

  try {
    registerAssets(p.router, loadAssets(p.assetsDir));
  } catch (e) {
    p.logger.warn(
      {
        event: 'HOST_STARTED',
        component: 'status-page',
        detail: `status page files not found: ${(e as Error).message}`,
      },
      'status page unavailable',
    );
  }

  const readGuard = (req: IncomingMessage, res: ServerResponse): boolean => {
    const decision = access.check(req);
    if (!decision.ok) sendJson(res, decision.status, { error: decision.reason, tokenAccepted: true });
    return decision.ok;
  };

  p.router.add('GET', STATUS_API.snapshot, async (req, res) => {
    if (!readGuard(req, res)) return;
    const snapshot = await buildSnapshot({
      site: p.config.siteId,
      instance: p.config.instanceId,
      smtpPort: p.smtpPort(),
      smtpConnections: p.smtpConnections,
      spool: p.spool,
      headers,
      activity,
      cloud,
      ...(sandbox ? { sandbox } : {}),
    });
    sendJson(res, 200, snapshot);
  });

  for (const action of ['retry', 'delete'] as const) {
    p.router.add('POST', STATUS_API[action], async (req, res) => {
      const decision = access.checkAction(req);
      const actor: AdminActor = { via: 'status-page', client: decision.client };
      if (!decision.ok) {
        p.admin.refused(action, actor, 'refused', decision.reason);
        return sendJson(res, decision.status, { error: decision.reason });
      }
      const body = await readActionBody(req);
      const id = body?.id;
      if (!id) return sendJson(res, 400, { error: 'send {"id": "<spool id>"}' });
      actor.auth = decision.via;
      // force: the admin confirmed a resubmission that may duplicate (the page's confirm step)
      const result =
        action === 'retry'
          ? await p.admin.retry(id, actor, { force: body.force === true })
          : await p.admin.delete(id, actor);
      if (result.status !== 'done') {
        const message =
          result.status === 'not-found'
            ? action === 'retry'
              ? 'no waiting or failed message with this id'
              : 'no message with this id'
            : result.message;
        return sendJson(res, httpStatusOf(result), {
          error: message,
          ...(result.code ? { code: result.code, hint: result.hint } : {}),
        });
      }
      const entry = result.entries[0];
      sendJson(
        res,
        200,
        action === 'retry'
          ? { retried: id, submissionId: entry?.submissionId, state: entry?.state }
          : { deleted: id },
      );
    });
  }

  if (sandbox) registerSandboxRoutes(p.router, sandbox, readGuard);
  return {
    close() {
      unfollow();
      p.events.off('accepted', onAccepted);
    },
  };
}

function registerSandboxRoutes(
  router: HttpRouter,
  sandbox: SandboxClient,
  guard: (req: IncomingMessage, res: ServerResponse) => boolean,
): void {
  router.add('GET', STATUS_API.preview, async (req, res, url) => {
    if (!guard(req, res)) return;
    const found = await sandbox.message(url.searchParams.get('id') ?? '');
    if (!found) return sendJson(res, 404, { error: 'no kept message with this id' });
    const html = Buffer.from(previewDocument(found.body));
    res.writeHead(
      200,
      securityHeaders({
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(html.length),
        'content-security-policy': PREVIEW_CSP,
        'x-frame-options': 'SAMEORIGIN',
        'cache-control': 'no-store',
      }),
    );
    res.end(html);
  });

  const download = async (
    res: ServerResponse,
    id: string,
    part: { attachment: number } | 'eml',
    fileName: string,
  ) => {
    const upstream = await sandbox.download(id, part);
    if (!upstream?.body) return sendJson(res, 404, { error: 'not found in the sandbox' });
    // Always a download, never rendered: the type is not trusted, the content could be anything.
    res.writeHead(
      200,
      securityHeaders({
        'content-type': part === 'eml' ? 'message/rfc822' : 'application/octet-stream',
        'content-disposition': contentDisposition(fileName),
        'content-security-policy': "sandbox; default-src 'none'",
        'cache-control': 'no-store',
      }),
    );
    await pipeline(Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>), res);
  };

  router.add('GET', STATUS_API.attachment, async (req, res, url) => {
    if (!guard(req, res)) return;
    const n = Number(url.searchParams.get('n'));
    const found = await sandbox.message(url.searchParams.get('id') ?? '');
    const attachment = found?.view.attachments.find((a) => a.n === n);
    if (!found || !attachment) return sendJson(res, 404, { error: 'no such attachment' });
    await download(res, found.view.id, { attachment: n }, attachment.name);
  });

  router.add('GET', STATUS_API.eml, async (req, res, url) => {
    if (!guard(req, res)) return;
    const found = await sandbox.message(url.searchParams.get('id') ?? '');
    if (!found) return sendJson(res, 404, { error: 'no kept message with this id' });
    await download(res, found.view.id, 'eml', `${found.view.id}.eml`);
  });
}

/** The `id` of a small JSON body, when it is a well-formed spool id. */
async function readActionBody(req: IncomingMessage): Promise<{ id?: string; force?: unknown } | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ACTION_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown; force?: unknown };
    const id = body.id;
    return typeof id === 'string' && MESSAGE_ID_PATTERN.test(id) ? { id, force: body.force } : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 6266: an ASCII fallback plus the exact UTF-8 name; quotes, slashes and controls never pass. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\/]/g, '_').slice(0, 150) || 'download';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name.slice(0, 150))}`;
}

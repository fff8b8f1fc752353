import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import {
  type AdminActionName,
  type AdminActor,
  httpStatusOf,
  type QueueActionResult,
  type QueueAdmin,
} from '../admin/queue-admin';
import { type HttpRouter, sendJson } from '../http/router';

/** Paths of the admin API on the listener's HTTP port; the CLI is its client (admin-client.ts). */
export const ADMIN_PATHS = {
  retry: '/admin/v1/queue/retry',
  delete: '/admin/v1/queue/delete',
} as const;

export interface AdminApiOptions {
  /** The one implementation of the queue actions, shared with the status page (admin/queue-admin.ts). */
  admin: QueueAdmin;
  token: string;
}

/**
 * Queue actions on a running listener — the process that owns the spool lock — so the CLI never touches
 * the spool behind its back. Two locks on the door: a bearer token that only the service account can read
 * (admin-endpoint.ts), and loopback callers only, even when the HTTP port is bound to all interfaces for
 * health checks and metrics. QueueAdmin acts and logs one ADMIN_ACTION per request, refused ones included.
 *
 *   POST /admin/v1/queue/retry?id=ID | ?all-failed=1 [&force=1]
 *                                       → 200 {retried:[ids], entries:[{id,submissionId,state}], skipped?:[ids]}
 *                                         | 404 | 409 (busy, or code RESUBMIT_MAY_DUPLICATE: repeat with force=1)
 *   POST /admin/v1/queue/delete?id=ID                  → 200 {deleted:id} | 404 | 409
 */
export function registerAdminApi(router: HttpRouter, o: AdminApiOptions): void {
  const expected = digest(o.token);
  const guard = (
    req: IncomingMessage,
    res: ServerResponse,
    action: AdminActionName,
  ): AdminActor | undefined => {
    const client = req.socket.remoteAddress ?? '';
    const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const loopback = client === '::1' || client.startsWith('127.') || client.startsWith('::ffff:127.');
    const actor: AdminActor = { via: 'admin-api', client };
    if (loopback && given !== undefined && timingSafeEqual(digest(given), expected)) return actor;
    const reason = loopback ? 'admin token missing or wrong' : 'admin API answers loopback callers only';
    o.admin.refused(action, actor, loopback ? 'bad-token' : 'not-loopback', reason);
    sendJson(res, loopback ? 401 : 403, { error: reason });
    return undefined;
  };

  router.add('POST', ADMIN_PATHS.retry, async (req, res, url) => {
    const all = url.searchParams.get('all-failed') === '1';
    const actor = guard(req, res, all ? 'retry-all-failed' : 'retry');
    if (!actor) return;
    const id = url.searchParams.get('id');
    if (!all && !id) return sendJson(res, 400, { error: 'give ?id=ID or ?all-failed=1' });
    const force = url.searchParams.get('force') === '1';
    const result = all
      ? await o.admin.retryAllFailed(actor, { force })
      : await o.admin.retry(id ?? '', actor, { force });
    if (result.status !== 'done') return sendJson(res, httpStatusOf(result), failureBody(result));
    sendJson(res, 200, {
      retried: result.entries.map((e) => e.id),
      entries: result.entries,
      ...(result.skipped ? { skipped: result.skipped } : {}),
      ...(all ? {} : { state: result.entries[0]?.state }),
    });
  });

  router.add('POST', ADMIN_PATHS.delete, async (req, res, url) => {
    const actor = guard(req, res, 'delete');
    if (!actor) return;
    const id = url.searchParams.get('id');
    if (!id) return sendJson(res, 400, { error: 'give ?id=ID' });
    const result = await o.admin.delete(id, actor);
    sendJson(res, httpStatusOf(result), result.status === 'done' ? { deleted: id } : failureBody(result));
  });
}

function failureBody(r: Exclude<QueueActionResult, { status: 'done' }>): Record<string, unknown> {
  return { error: r.message, ...(r.code ? { code: r.code } : {}), ...(r.hint ? { hint: r.hint } : {}) };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

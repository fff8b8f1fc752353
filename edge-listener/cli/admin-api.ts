import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { type HttpRouter, sendJson } from '../http/router';
import type { Spool } from '../spool/spool';

/** Paths of the admin API on the listener's HTTP port; the CLI is its client (admin-client.ts). */
export const ADMIN_PATHS = {
  retry: '/admin/v1/queue/retry',
  delete: '/admin/v1/queue/delete',
} as const;

export interface AdminApiOptions {
  spool: Pick<Spool, 'retry' | 'retryAllFailed' | 'delete'>;
  token: string;
  logger: Logger;
}

/**
 * Queue actions on a running listener — the process that owns the spool lock — so the CLI never touches
 * the spool behind its back. Two locks on the door: a bearer token that only the service account can read
 * (admin-endpoint.ts), and loopback callers only, even when the HTTP port is bound to all interfaces for
 * health checks and metrics. Every request is logged as ADMIN_ACTION, refused ones included.
 *
 *   POST /admin/v1/queue/retry?id=ID | ?all-failed=1   → 200 {retried:[ids]} | 404 | 409 MESSAGE_IN_PROGRESS
 *   POST /admin/v1/queue/delete?id=ID                  → 200 {deleted:id} | 404 | 409
 */
export function registerAdminApi(router: HttpRouter, o: AdminApiOptions): void {
  const expected = digest(o.token);
  const guard = (req: IncomingMessage, res: ServerResponse, action: string): boolean => {
    const client = req.socket.remoteAddress ?? '';
    const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const loopback = client === '::1' || client.startsWith('127.') || client.startsWith('::ffff:127.');
    if (loopback && given !== undefined && timingSafeEqual(digest(given), expected)) return true;
    o.logger.warn({ event: 'ADMIN_ACTION', action, via: 'admin-api', client, outcome: loopback ? 'bad-token' : 'not-loopback' }, 'admin request refused');
    sendJson(res, loopback ? 401 : 403, { error: loopback ? 'admin token missing or wrong' : 'admin API answers loopback callers only' });
    return false;
  };

  router.add('POST', ADMIN_PATHS.retry, async (req, res, url) => {
    if (!guard(req, res, 'retry')) return;
    const id = url.searchParams.get('id');
    if (url.searchParams.get('all-failed') === '1') {
      await act(res, o.logger, { action: 'retry-all-failed' }, async () => {
        const retried = await o.spool.retryAllFailed();
        return { status: 200, body: { retried } };
      });
      return;
    }
    if (!id) return sendJson(res, 400, { error: 'give ?id=ID or ?all-failed=1' });
    await act(res, o.logger, { action: 'retry', mid: id }, async () => {
      const entry = await o.spool.retry(id);
      return entry ? { status: 200, body: { retried: [id], state: entry.state } } : { status: 404, body: { error: `no waiting or failed message ${id}` } };
    });
  });

  router.add('POST', ADMIN_PATHS.delete, async (req, res, url) => {
    if (!guard(req, res, 'delete')) return;
    const id = url.searchParams.get('id');
    if (!id) return sendJson(res, 400, { error: 'give ?id=ID' });
    await act(res, o.logger, { action: 'delete', mid: id }, async () => {
      const deleted = await o.spool.delete(id);
      return deleted ? { status: 200, body: { deleted: id } } : { status: 404, body: { error: `no message ${id}` } };
    });
  });
}

async function act(res: ServerResponse, logger: Logger, fields: Record<string, unknown>, work: () => Promise<{ status: number; body: unknown }>): Promise<void> {
  try {
    const { status, body } = await work();
    logger.info({ event: 'ADMIN_ACTION', via: 'admin-api', ...fields, status }, 'admin request done');
    sendJson(res, status, body);
  } catch (e) {
    const err = toBridgeError(e);
    const status = err.code === 'MESSAGE_IN_PROGRESS' ? 409 : 500;
    logger.warn({ event: 'ADMIN_ACTION', via: 'admin-api', ...fields, status, code: err.code }, 'admin request failed');
    sendJson(res, status, { error: err.message, code: err.code, detail: err.detail });
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

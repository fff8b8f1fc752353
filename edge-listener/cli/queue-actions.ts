import { request } from 'node:http';
import { userInfo } from 'node:os';

import { bridgeError, toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { type ActedEntry, type AdminActor, type QueueActionResult, QueueAdmin } from '../admin/queue-admin';
import { Spool } from '../spool/spool';
import { ADMIN_PATHS } from './admin-api';
import { type AdminEndpoint, runningAdminEndpoint } from './admin-endpoint';

/** `entries` name the submission id each retried message now goes out under (`<id>.r<n>`: resubmitted). */
export type ActionResult =
  | { status: 'done'; ids: string[]; entries: ActedEntry[]; skipped?: string[] }
  | { status: 'not-found' | 'busy' | 'confirm' | 'failed'; message: string; hint?: string };

/** retry / delete on the spool, wherever the spool's owner is. */
export interface QueueActions {
  /** 'listener': through the running listener's admin API; 'direct': this process holds the spool lock. */
  readonly via: 'listener' | 'direct';
  /** `force`: resubmit even when the message may have been sent already (RESUBMIT_MAY_DUPLICATE). */
  retry(id: string, force?: boolean): Promise<ActionResult>;
  retryAllFailed(force?: boolean): Promise<ActionResult>;
  delete(id: string): Promise<ActionResult>;
  close(): Promise<void>;
}

/**
 * Chooses how to act on the spool. A running listener owns it (SpoolLock) and has it indexed in memory, so
 * actions go through its admin API (admin-api.ts) — the change is then scheduled at once and cannot race a
 * forward attempt. With no listener running, the CLI opens the spool itself, taking the same lock, so a
 * listener started meanwhile waits for nothing and sees a consistent spool.
 */
export async function openQueueActions(dataDir: string, logger: Logger): Promise<QueueActions> {
  const endpoint = await runningAdminEndpoint(dataDir);
  if (endpoint) return new ListenerActions(endpoint);
  try {
    const spool = await Spool.open({
      dataDir,
      instanceId: 'cli',
      maxBytes: Number.MAX_SAFE_INTEGER,
      minFreeBytes: 0,
      keepDone: Number.MAX_SAFE_INTEGER,
      keepDoneMs: Number.MAX_SAFE_INTEGER,
      logger,
    });
    return new DirectActions(spool, logger);
  } catch (e) {
    const err = toBridgeError(e);
    if (err.code === 'SPOOL_IN_USE') {
      throw bridgeError('SPOOL_IN_USE', {
        detail: `${err.detail ?? ''}; the listener publishes no admin endpoint (${dataDir}/admin.json) — is its HTTP server off, or the data directory another one?`,
      });
    }
    throw err;
  }
}

class ListenerActions implements QueueActions {
  readonly via = 'listener' as const;
  readonly #endpoint: AdminEndpoint;

  constructor(endpoint: AdminEndpoint) {
    this.#endpoint = endpoint;
  }

  retry(id: string, force = false) {
    return this.#post(
      `${ADMIN_PATHS.retry}?id=${encodeURIComponent(id)}${force ? '&force=1' : ''}`,
      'retried',
    );
  }

  retryAllFailed(force = false) {
    return this.#post(`${ADMIN_PATHS.retry}?all-failed=1${force ? '&force=1' : ''}`, 'retried');
  }

  delete(id: string) {
    return this.#post(`${ADMIN_PATHS.delete}?id=${encodeURIComponent(id)}`, 'deleted');
  }

  async close(): Promise<void> {}

  async #post(path: string, key: 'retried' | 'deleted'): Promise<ActionResult> {
    const { status, body } = await postJson(new URL(path, this.#endpoint.url), this.#endpoint.token);
    if (status === 200) {
      const v = body[key];
      const ids = Array.isArray(v) ? v.map(String) : [String(v)];
      const entries = Array.isArray(body.entries)
        ? (body.entries as ActedEntry[])
        : ids.map((id) => ({ id, submissionId: id, state: 'done' as const }));
      const skipped = Array.isArray(body.skipped) ? body.skipped.map(String) : undefined;
      return { status: 'done', ids, entries, ...(skipped ? { skipped } : {}) };
    }
    const message = String(body.error ?? `HTTP ${status}`);
    if (status === 404) return { status: 'not-found', message };
    if (status === 409 && body.code === 'RESUBMIT_MAY_DUPLICATE')
      return { status: 'confirm', message, ...(typeof body.hint === 'string' ? { hint: body.hint } : {}) };
    if (status === 409) return { status: 'busy', message };
    return { status: 'failed', message: `listener answered HTTP ${status}: ${message}` };
  }
}

/** This process holds the spool lock: the same QueueAdmin the listener uses acts (and logs) here. */
class DirectActions implements QueueActions {
  readonly via = 'direct' as const;
  readonly #spool: Spool;
  readonly #admin: QueueAdmin;
  readonly #actor: AdminActor = { via: 'cli-direct', user: userInfo().username };

  constructor(spool: Spool, logger: Logger) {
    this.#spool = spool;
    this.#admin = new QueueAdmin(spool, logger);
  }

  async retry(id: string, force = false) {
    return toActionResult(await this.#admin.retry(id, this.#actor, { force }));
  }

  async retryAllFailed(force = false) {
    return toActionResult(await this.#admin.retryAllFailed(this.#actor, { force }));
  }

  async delete(id: string) {
    return toActionResult(await this.#admin.delete(id, this.#actor));
  }

  close(): Promise<void> {
    return this.#spool.close();
  }
}

function toActionResult(r: QueueActionResult): ActionResult {
  return r.status === 'done'
    ? {
        status: 'done',
        ids: r.entries.map((e) => e.id),
        entries: r.entries,
        ...(r.skipped ? { skipped: r.skipped } : {}),
      }
    : { status: r.status, message: r.message, ...(r.hint ? { hint: r.hint } : {}) };
}

function postJson(url: URL, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-length': '0' },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            // not JSON: the status says enough
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('the listener did not answer within 30 s')));
    req.on('error', reject);
    req.end();
  });
}

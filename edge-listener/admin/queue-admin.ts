import { toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { SpoolEntry, SpoolState } from '../spool/entry';
import type { Spool } from '../spool/spool';

/**
 * THE implementation of the queue actions an admin can take — retry one, retry all failed, delete — for
 * every way in: the CLI through the listener's admin API (loopback + the token in admin.json), the status
 * page (admin addresses or the admin token), and the CLI acting on a stopped listener's spool directly.
 * Each route only authenticates and translates; this module acts, answers in one shape and logs exactly one
 * ADMIN_ACTION per request (refusals included, via `refused`).
 *
 * A retry of an entry the function failed for good is a resubmission under a new submission id
 * (spool/submission-id.ts, decided by Spool.retry); the answer names both ids so the caller can show them.
 */
export type AdminChannel = 'admin-api' | 'status-page' | 'cli-direct';
export type AdminActionName = 'retry' | 'retry-all-failed' | 'delete';

/** Who asked, for the log: the channel plus what the route knows (peer address, auth kind, OS user). */
export interface AdminActor {
  via: AdminChannel;
  /** The admin confirmed a resubmission that may duplicate (logged). */
  force?: boolean;
  client?: string;
  auth?: string;
  user?: string;
}

export interface ActedEntry {
  id: string;
  submissionId: string;
  state: SpoolState;
}

/**
 * `confirm`: the retry would resubmit a message whose outcome is unknown (it may have been sent) and was
 * not forced; the caller asks the admin and repeats with `force` (CLI --force, a confirm step on the page).
 * `skipped` (retry-all-failed without force): such messages left as they were.
 */
export type QueueActionResult =
  | { status: 'done'; entries: ActedEntry[]; skipped?: string[] }
  | { status: 'not-found' | 'busy' | 'confirm' | 'failed'; message: string; code?: string; hint?: string };

export type QueueSpool = Pick<Spool, 'retry' | 'retryAllFailed' | 'delete'>;

export class QueueAdmin {
  readonly #spool: QueueSpool;
  readonly #logger: Logger;

  constructor(spool: QueueSpool, logger: Logger) {
    this.#spool = spool;
    this.#logger = logger;
  }

  retry(id: string, actor: AdminActor, opts: { force?: boolean } = {}): Promise<QueueActionResult> {
    return this.#act('retry', id, { ...actor, ...(opts.force ? { force: true } : {}) }, async () => {
      const entry = await this.#spool.retry(id, opts);
      return entry ? [acted(entry)] : undefined;
    });
  }

  async retryAllFailed(actor: AdminActor, opts: { force?: boolean } = {}): Promise<QueueActionResult> {
    const skipped: string[] = [];
    const result = await this.#act(
      'retry-all-failed',
      undefined,
      { ...actor, ...(opts.force ? { force: true } : {}) },
      async () => (await this.#spool.retryAllFailed({ ...opts, skipped })).map(acted),
    );
    return result.status === 'done' && skipped.length ? { ...result, skipped } : result;
  }

  delete(id: string, actor: AdminActor): Promise<QueueActionResult> {
    return this.#act('delete', id, actor, async () =>
      (await this.#spool.delete(id)) ? [{ id, submissionId: id, state: 'done' as const }] : undefined,
    );
  }

  /** Logs a request the route refused before acting (bad token, not an admin address, cross-site …). */
  refused(action: AdminActionName, actor: AdminActor, outcome: string, reason: string, id?: string): void {
    this.#logger.warn(
      { event: 'ADMIN_ACTION', action, ...(id ? { mid: id } : {}), ...actor, outcome, reason },
      'admin request refused',
    );
  }

  async #act(
    action: AdminActionName,
    id: string | undefined,
    actor: AdminActor,
    work: () => Promise<ActedEntry[] | undefined>,
  ): Promise<QueueActionResult> {
    const fields = { event: 'ADMIN_ACTION' as const, action, ...(id ? { mid: id } : {}), ...actor };
    try {
      const entries = await work();
      if (!entries) {
        this.#logger.info({ ...fields, outcome: 'not-found' }, 'admin action: no such message');
        return {
          status: 'not-found',
          message:
            action === 'delete' ? `no message ${id ?? ''}` : `no waiting or failed message ${id ?? ''}`,
        };
      }
      // Which submission id each retried message goes out under: a changed one is a resubmission.
      const resubmitted = entries.filter((e) => e.submissionId !== e.id).map((e) => e.submissionId);
      this.#logger.info(
        {
          ...fields,
          outcome: 'done',
          count: entries.length,
          ...(action === 'retry-all-failed' ? { mids: entries.map((e) => e.id) } : {}),
          ...(resubmitted.length ? { resubmitted } : {}),
        },
        'admin action done',
      );
      return { status: 'done', entries };
    } catch (e) {
      const err = toBridgeError(e);
      const status =
        err.code === 'MESSAGE_IN_PROGRESS'
          ? 'busy'
          : err.code === 'RESUBMIT_MAY_DUPLICATE'
            ? 'confirm'
            : 'failed';
      this.#logger.warn({ ...fields, outcome: status, code: err.code }, 'admin action failed');
      return { status, message: err.message, code: err.code, hint: err.hint };
    }
  }
}

/** The HTTP status both HTTP routes answer a result with. */
export function httpStatusOf(result: QueueActionResult): 200 | 404 | 409 | 500 {
  return result.status === 'done'
    ? 200
    : result.status === 'not-found'
      ? 404
      : result.status === 'busy' || result.status === 'confirm'
        ? 409
        : 500;
}

function acted(e: SpoolEntry): ActedEntry {
  return { id: e.id, submissionId: e.submissionId, state: e.state };
}

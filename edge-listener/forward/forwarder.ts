import { type BridgeError, bridgeError, toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { EdgeEvents } from '../events';
import type { SpoolMeta } from '../spool/entry';
import type { HeldMessage } from '../spool/held-message';
import type { Spool } from '../spool/spool';
import { type BackoffPolicy, retryDelayMs } from './backoff';
import { classifyAnswer, classifyNoAnswer, type ForwardOutcome } from './classify-function-answer';
import type { ClientReply } from './client-reply';
import type { FunctionPoster } from './function-client';
import { submissionId } from '../spool/submission-id';
import { Semaphore } from './semaphore';
import { CloudCustody, type CloudStateFetcher } from './cloud-custody';
import { outcomeUnknown } from '../../core/custody';

export interface ForwarderOptions {
  spool: Spool;
  client: FunctionPoster;
  backoff: BackoffPolicy;
  concurrency: number;
  maxQueueAgeMs: number;
  /** Signed read of the cloud's state of a message it queued (cloud-custody.ts). */
  cloudState: CloudStateFetcher;
  logger: Logger;
  events: EdgeEvents;
}

/** What a fresh message's SMTP session learns from its first attempt. */
export type FreshOutcome =
  { kind: 'sent' | 'queued' | 'deferred' } | { kind: 'rejected'; error: BridgeError };

/** Longest sleep of the scheduler: wall-clock jumps (NTP, suspend) are noticed within this. */
const MAX_SLEEP_MS = 60_000;

/**
 * Moves spooled messages to the function. Fresh messages are posted at once by their SMTP session
 * (`forwardFresh`, "try, then hold"); everything else waits in the spool and is picked up when due, with at
 * most `concurrency` POSTs at a time. Each scheduled attempt is persisted (attempts + nextAttemptAt) before
 * the POST; each outcome is persisted after it: sent → done, queued → `cloud` (the body is kept and the
 * cloud's state is read until it is final: cloud-custody.ts), a definite rejection → failed (or done when
 * its client got the 5xx — never for an unknown outcome), anything else → deferred with backoff until the
 * maximum age → failed MESSAGE_EXPIRED. `stop()` lets POSTs in flight finish (bounded), then returns; the spool keeps the rest.
 */
export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #slots: Semaphore;
  readonly #cloud: CloudCustody;
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #scanQueued = false;
  #stopping = false;
  readonly #onDue = () => this.#kick();

  constructor(options: ForwarderOptions) {
    this.#o = options;
    this.#slots = new Semaphore(options.concurrency);
    this.#cloud = new CloudCustody({
      spool: options.spool,
      fetchState: options.cloudState,
      backoff: options.backoff,
      maxQueueAgeMs: options.maxQueueAgeMs,
      logger: options.logger,
      events: options.events,
    });
  }

  start(): void {
    this.#o.spool.on('due', this.#onDue);
    this.#kick();
  }

  /** Forwards started and not finished: POSTs and state reads in flight, and fresh ones waiting for a slot. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** When a message committed now should be retried if its first attempt does not conclude. */
  firstRetryAtMs(nowMs: number = Date.now()): number {
    return nowMs + retryDelayMs(this.#o.backoff, 1);
  }

  /**
   * The first attempt of a message just committed (its attempt 1 is already on disk). `body` is the message
   * when the intake still holds it in memory, which saves reading the file back.
   */
  forwardFresh(meta: SpoolMeta, reply: ClientReply, body?: HeldMessage): Promise<FreshOutcome> {
    const id = meta.envelope.messageId;
    return this.#track(async () => {
      await this.#slots.acquire();
      try {
        if (this.#stopping || !this.#o.spool.claim(id)) return { kind: 'deferred' };
        try {
          return await this.#attempt(id, meta, reply, body);
        } finally {
          this.#o.spool.release(id);
        }
      } finally {
        this.#slots.release();
        this.#kick();
      }
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#o.spool.off('due', this.#onDue);
    clearTimeout(this.#timer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.#running]), deadline]);
    clearTimeout(timer);
  }

  #kick(): void {
    if (this.#stopping || this.#scanQueued) return;
    this.#scanQueued = true;
    setImmediate(() => {
      this.#scanQueued = false;
      this.#scan();
    });
  }

  #scan(): void {
    if (this.#stopping) return;
    const now = Date.now();
    for (const id of this.#o.spool.takeDue(now, this.#slots.available)) {
      if (!this.#slots.tryAcquire()) break;
      if (!this.#o.spool.claim(id)) {
        this.#slots.release();
        continue;
      }
      void this.#track(async () => {
        try {
          await this.#scheduledAttempt(id);
        } finally {
          this.#o.spool.release(id);
          this.#slots.release();
          this.#kick();
        }
      });
    }
    clearTimeout(this.#timer);
    const next = this.#o.spool.nextDueAtMs();
    if (next !== undefined) {
      this.#timer = setTimeout(() => this.#kick(), Math.min(Math.max(next - Date.now(), 0), MAX_SLEEP_MS));
      this.#timer.unref();
    }
  }

  async #scheduledAttempt(id: string): Promise<void> {
    const { spool } = this.#o;
    const stored = await spool.readMeta(id);
    if (!stored || stored.state === 'failed') return;
    if (stored.state === 'cloud') {
      try {
        await this.#cloud.check(id, stored);
      } catch (e) {
        this.#o.logger.error(
          { event: 'SPOOL_WRITE_FAILED', mid: id, err: toBridgeError(e) },
          'could not record the cloud state; will read it again',
        );
      }
      return;
    }
    const now = Date.now();
    const meta: SpoolMeta = {
      ...stored,
      attempts: stored.attempts + 1,
      lastAttemptAt: new Date(now).toISOString(),
      nextAttemptAt: new Date(now + retryDelayMs(this.#o.backoff, stored.attempts + 1)).toISOString(),
    };
    try {
      await spool.saveMeta(id, meta); // persisted BEFORE the POST (mox): a crash now cannot cause a hot loop
    } catch (e) {
      this.#o.logger.error(
        { event: 'SPOOL_WRITE_FAILED', mid: id, err: e },
        'could not record the attempt; not trying now',
      );
      return;
    }
    await this.#attempt(id, meta);
  }

  async #attempt(
    id: string,
    meta: SpoolMeta,
    reply?: ClientReply,
    body?: HeldMessage,
  ): Promise<FreshOutcome> {
    const started = Date.now();
    const { logger, client, spool } = this.#o;
    // The idempotency key: the spool id, or its admin resubmission (submission-id.ts); never changed here.
    const sid = submissionId(id, meta.resubmissions);
    logger.debug(
      { event: 'FORWARD_ATTEMPT', mid: id, sid, attempt: meta.attempts },
      'posting to the function',
    );
    let outcome: ForwardOutcome;
    try {
      outcome = classifyAnswer(
        await client.post(
          { ...meta.envelope, messageId: sid },
          body ? { held: body } : { path: spool.messagePath(id), bytes: meta.mimeBytes },
        ),
        sid,
        Date.now(),
      );
    } catch (e) {
      outcome = classifyNoAnswer(e);
    }
    const durationMs = Date.now() - started;
    try {
      return await this.#settle(id, meta, outcome, durationMs, reply);
    } catch (e) {
      // The spool could not record the outcome: the entry keeps its persisted schedule and is tried again.
      logger.error(
        { event: 'SPOOL_WRITE_FAILED', mid: id, err: toBridgeError(e) },
        'could not record the forward outcome',
      );
      return { kind: 'deferred' };
    }
  }

  async #settle(
    id: string,
    meta: SpoolMeta,
    outcome: ForwardOutcome,
    durationMs: number,
    reply?: ClientReply,
  ): Promise<FreshOutcome> {
    const { spool, logger, events } = this.#o;
    const base = {
      mid: id,
      attempt: meta.attempts,
      bytes: meta.mimeBytes,
      rcpts: meta.envelope.rcptTo.length,
      durationMs,
    };
    if (outcome.kind === 'sent' || outcome.kind === 'queued') {
      if (outcome.kind === 'sent') await spool.complete(id, meta, 'sent', outcome.result);
      else await this.#cloud.hold(id, meta, outcome.result); // custody until the cloud confirms
      const event = outcome.kind === 'sent' ? 'MESSAGE_SENT' : 'MESSAGE_QUEUED';
      logger.info(
        {
          event,
          ...base,
          status: outcome.status,
          graphRequestId: outcome.result.graphRequestId,
          sender: outcome.result.sender,
        },
        `function ${outcome.kind} the message`,
      );
      events.emit('outcome', { id, kind: outcome.kind, attempt: meta.attempts, durationMs });
      return { kind: outcome.kind };
    }
    if (outcome.kind === 'rejected') {
      // A 5xx only when the message certainly was not and will not be sent: an unknown outcome is held.
      const toClient = !outcomeUnknown(outcome.error.code) && (reply?.claim() ?? false);
      if (toClient) await spool.complete(id, meta, 'rejected', outcome.result);
      else await this.#fail(id, meta, outcome.error, 'function');
      logger.warn(
        { event: 'MESSAGE_REJECTED', ...base, status: outcome.status, code: outcome.error.code, toClient },
        'function rejected the message',
      );
      events.emit('outcome', {
        id,
        kind: toClient ? 'rejected' : 'failed',
        attempt: meta.attempts,
        durationMs,
        code: outcome.error.code,
      });
      // Held (not the client's): the device gets its 250; the entry waits failed with its body for an admin.
      return toClient ? { kind: 'rejected', error: outcome.error } : { kind: 'deferred' };
    }
    const now = Date.now();
    const ageFrom = Date.parse(meta.retriedAt ?? meta.envelope.receivedAt);
    const expiresAt = ageFrom + this.#o.maxQueueAgeMs;
    if (now >= expiresAt) {
      await this.#fail(
        id,
        meta,
        bridgeError('MESSAGE_EXPIRED', {
          detail: `last error ${outcome.error.code}${outcome.error.detail ? `: ${outcome.error.detail}` : ''}`,
        }),
        'edge',
      );
      logger.warn(
        { event: 'MESSAGE_FAILED', ...base, code: 'MESSAGE_EXPIRED', lastCode: outcome.error.code },
        'message expired',
      );
      events.emit('outcome', {
        id,
        kind: 'failed',
        attempt: meta.attempts,
        durationMs,
        code: 'MESSAGE_EXPIRED',
      });
      return { kind: 'deferred' };
    }
    const waitMs = retryDelayMs(this.#o.backoff, meta.attempts, outcome.retryAfterMs);
    const next: SpoolMeta = {
      ...meta,
      state: 'deferred',
      nextAttemptAt: new Date(Math.min(now + waitMs, expiresAt)).toISOString(),
      lastError: outcome.error.toJSON(),
    };
    await spool.saveMeta(id, next);
    logger.warn(
      {
        event: 'MESSAGE_DEFERRED',
        ...base,
        status: outcome.status,
        code: outcome.error.code,
        detail: outcome.error.detail,
        nextAttemptAt: next.nextAttemptAt,
      },
      'forward deferred',
    );
    events.emit('outcome', {
      id,
      kind: 'deferred',
      attempt: meta.attempts,
      durationMs,
      code: outcome.error.code,
    });
    return { kind: 'deferred' };
  }

  /** `by`: a definite answer of the function (an admin retry then resubmits) or the edge's own expiry. */
  async #fail(id: string, meta: SpoolMeta, error: BridgeError, by: 'function' | 'edge'): Promise<void> {
    const failed: SpoolMeta = {
      ...meta,
      state: 'failed',
      failedBy: by,
      failedAt: new Date().toISOString(),
      lastError: error.toJSON(),
    };
    await this.#o.spool.saveMeta(id, failed);
  }

  #track<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return p;
  }
}

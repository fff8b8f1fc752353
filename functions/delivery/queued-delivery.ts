import { randomUUID } from 'node:crypto';

import type { InvocationContext } from '@azure/functions';

import { bridgeError, toBridgeError, type BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { failureLevel, finalSummary, logAttemptSummary, type AttemptSummary } from './attempt-summary';
import { deliverOnce, planForSite } from './graph-attempt';
import type { DeliveryPlan } from './delivery-plan';
import { invocationLogger } from '../invocation-logger';
import { nextRetry } from '../pacing/retry-schedule';
import type { FunctionServices, Mailer, ServicesGetter } from '../services';
import { judgeAttempt, unknownSince } from '../state/attempt-decision';
import type { MessageRecord, RecordChanges } from '../state/message-record';
import { parseQueuePointer, type QueuePointer } from '../state/outbound-queue';
import { resolveSite, type ResolvedSite } from '../tenants/site-directory';
import { passTenantGate } from '../tenants/tenant-gate';
import { reconcileStep, unknownOutcome } from './reconcile-message';
import { SEND_QUEUED_FUNCTION } from './send-queued-name';

/** The queue trigger's function name (functions/index.ts registers it; the local host polls as it). */
export { SEND_QUEUED_FUNCTION };

/**
 * The queue-triggered sender: loads a queued message from Blob Storage and sends it, paced per sender
 * mailbox across all instances. It never sleeps long: when the mailbox is at its limit or Graph asks to
 * wait (Retry-After), it puts a new pointer on the queue that stays invisible for the delay and returns,
 * so the host deletes the current one.
 *
 * Custody (docs/design/custody.md): a transient failure is retried with capped backoff until the horizon
 * (BRIDGE_MAX_QUEUE_AGE_MS), never after a fixed number of attempts. A lost Graph answer is resolved by
 * looking in Sent Items (reconcile-message.ts) before anything is sent again. Sent deletes the stored copy;
 * failed keeps it for the retention period (Blob lifecycle rule).
 *
 * Throwing is reserved for storage failures: the host then makes the message visible again and counts a
 * dequeue; on the last dequeue the handler puts a fresh pointer on the queue (a new dequeue count) rather
 * than letting the message fall into the poison queue.
 */
export function makeSendQueuedHandler(getServices: ServicesGetter) {
  return async function sendQueued(queueItem: unknown, context: InvocationContext): Promise<void> {
    const services = getServices();
    const log = invocationLogger(context, services.config.logLevel, { fn: SEND_QUEUED_FUNCTION });
    let pointer: QueuePointer;
    try {
      pointer = parseQueuePointer(queueItem);
    } catch (err) {
      // Nothing can be done with it, and retrying will not change it: drop it loudly.
      log.error({ event: 'QUEUE_POISON', err: toBridgeError(err) });
      return;
    }
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const job = new QueuedSend(
      services,
      log.child({ site: pointer.siteId, id: pointer.messageId }),
      pointer,
      dequeueCount,
    );
    try {
      await job.run();
    } catch (err) {
      const error = toBridgeError(err);
      if (dequeueCount < services.tuning.maxDequeueCount) {
        log.warn({ event: 'MESSAGE_DEFERRED', code: error.code, dequeueCount, err: error });
        throw error; // the host retries after its visibility timeout
      }
      await job.putBack(error);
    }
  };
}

class QueuedSend {
  readonly #services: FunctionServices;
  #log: Logger;
  readonly #pointer: QueuePointer;
  readonly #dequeueCount: number;
  readonly #attemptId = randomUUID();
  readonly #startedMs = Date.now();
  #record: MessageRecord | undefined;
  /** When the edge received the message (the horizon counts from here); the record's creation until loaded. */
  #receivedMs: number | undefined;

  constructor(services: FunctionServices, log: Logger, pointer: QueuePointer, dequeueCount: number) {
    this.#services = services;
    this.#log = log;
    this.#pointer = pointer;
    this.#dequeueCount = dequeueCount;
  }

  async run(): Promise<void> {
    const { store, outbound, tuning } = this.#services;
    const p = this.#pointer;
    const now = this.#services.now();
    // A pointer without a record (deleted by hand, or written by an older version): record it now, as ours.
    const found = await store.get(p.siteId, p.messageId);
    const claim = found ? undefined : await store.claim(p.siteId, p.messageId, this.#attemptId, now);
    const existing = found ?? claim!.record;
    if (existing.state === 'sent') {
      await outbound.delete(p); // a duplicate pointer or a crash after the final write: nothing to send
      return;
    }
    if (existing.state === 'failed') return; // the copy stays for the retention period
    const decision =
      claim?.kind === 'new'
        ? ({ kind: 'take-over' } as const)
        : judgeAttempt(existing, now, tuning.attemptStaleMs);
    if (decision.kind === 'in-progress')
      return this.#requeue(decision.retryAfterMs, 'another attempt is running');
    this.#record = existing;
    const unknown = decision.kind === 'outcome-unknown';
    const taken = await store.tryUpdate(
      existing,
      unknown
        ? {
            attemptId: this.#attemptId,
            state: 'queued',
            phase: 'unknown',
            unknownSince: unknownSince(existing, tuning.maxAttemptMs),
          }
        : { attemptId: this.#attemptId, state: 'queued', phase: 'waiting' },
      now,
    );
    if (!taken) return this.#requeue(1000, 'record changed meanwhile');
    this.#record = taken;

    // The MIME stays in the download until the plan reads it: never held whole next to its decoded files.
    const stored = await outbound.open(p);
    if (!stored) return this.#finish(bridgeError('QUEUED_COPY_MISSING'));
    let site: ResolvedSite | undefined;
    let plan: DeliveryPlan;
    let mailer: Mailer;
    try {
      const receivedMs = Date.parse(stored.envelope.receivedAt);
      if (!Number.isNaN(receivedMs)) this.#receivedMs = receivedMs;
      site = await resolveSite(this.#services.config, this.#services.registry, p.siteId, now);
      // The site was removed from both the registry and the settings after the message was accepted: keep the
      // message (custody) until the site comes back or an admin deletes it.
      if (!site) {
        stored.release();
        return await this.#hold(
          bridgeError('SITE_UNKNOWN', { detail: `site "${p.siteId}" is gone` }),
          tuning.tenantProbeMs,
        );
      }
      this.#log = this.#log.child({ tenant: site.tenantId }); // per-tenant figures (monitoring workbook)
      try {
        plan = await planForSite(this.#services, site, stored.mime, stored.envelope);
        mailer = this.#services.mailerFor(site.tenantId, this.#log);
      } catch (err) {
        const error = toBridgeError(err);
        // Storage failing while the download is read: the host retries, as for any storage failure.
        if (error.code === 'STORAGE_UNAVAILABLE') throw error;
        return await (error.retryable ? this.#retryLater(error) : this.#finish(error));
      }
    } finally {
      stored.release();
    }

    const gate = await passTenantGate(this.#services, site.tenantId, mailer, this.#log);
    if (!gate.open) return this.#hold(gate.error, gate.retryAfterMs);
    if (unknown && !(await this.#reconcile(plan, mailer))) return;

    const slot = await this.#services.pacer.acquire(plan.mailbox, tuning.pacingWaitMs);
    if (!slot.granted) return this.#requeue(slot.retryAfterMs, `mailbox ${slot.reason} limit`);
    try {
      const outcome = await deliverOnce(this.#services, this.#log, this.#owned(), plan, mailer);
      switch (outcome.kind) {
        case 'lost-race':
          return;
        case 'sent':
          this.#record = outcome.record;
          await outbound.delete(p);
          this.#summary(finalSummary(outcome));
          return;
        case 'failed':
          this.#record = outcome.record;
          await this.#keepForRetention();
          this.#summary(finalSummary(outcome));
          return;
        case 'unknown':
          this.#record = outcome.record;
          this.#log.warn({
            event: 'MESSAGE_OUTCOME_UNKNOWN',
            code: outcome.error.code,
            graph: outcome.error.graph,
          });
          return this.#waitFor(tuning.sentItemsLagMs, 'look in Sent Items');
        case 'retryable':
          this.#record = outcome.record;
          return this.#retryLater(outcome.error, false);
      }
    } finally {
      await slot.lease.release();
    }
  }

  /**
   * The record's outcome is unknown: look in Sent Items. True when the message may be sent (again) now;
   * false when this invocation is done (found and recorded, waiting for the next look, or held).
   */
  async #reconcile(plan: DeliveryPlan, mailer: Mailer): Promise<boolean> {
    const { store, outbound } = this.#services;
    const step = await reconcileStep(this.#services, this.#log, this.#owned(), plan, mailer);
    switch (step.kind) {
      case 'found': {
        const changes: RecordChanges = {
          state: 'sent',
          phase: 'done',
          reconciled: true,
          error: null,
          unknownSince: undefined,
          nextAttemptAt: undefined,
        };
        if (step.graphMessageId) changes.graphMessageId = step.graphMessageId;
        const sent = await store.tryUpdate(this.#owned(), changes, this.#services.now());
        if (!sent) return false; // another attempt moved it meanwhile; it records its own outcome
        this.#record = sent;
        await outbound.delete(this.#pointer);
        this.#summary({
          level: 'info',
          event: 'MESSAGE_SENT',
          facts: { reconciled: true, graphMessageId: step.graphMessageId },
        });
        return false;
      }
      case 'look-later':
        if (step.error && this.#pastHorizon()) {
          await this.#finish(
            unknownOutcome(
              `Sent Items could not be searched before the horizon; last error ${step.error.code}: ${step.error.message}`,
              step.error,
            ),
          );
          return false;
        }
        if (step.error) await this.#note({ error: step.error });
        await this.#waitFor(step.delayMs, 'look in Sent Items again');
        return false;
      case 'hold':
        await this.#finish(step.error);
        return false;
      case 'send-again': {
        const cleared = await store.tryUpdate(
          this.#owned(),
          { phase: 'waiting', unknownSince: undefined },
          this.#services.now(),
        );
        if (!cleared) return false;
        this.#record = cleared;
        this.#log.info({
          event: 'MESSAGE_DEFERRED',
          detail: 'not in Sent Items after the window: sending again',
        });
        return true;
      }
    }
  }

  /** A retryable failure: try again after Retry-After or the backoff, until the horizon. */
  async #retryLater(error: BridgeError, countAttempt = true): Promise<void> {
    const { tuning } = this.#services;
    let record = this.#owned();
    if (countAttempt) {
      await this.#note({ attempts: record.attempts + 1, phase: 'waiting', error });
      record = this.#owned();
    }
    const attempts = Math.max(record.attempts, this.#pointer.attempts + 1);
    const next = nextRetry({
      attempts,
      error,
      delaysMs: tuning.queueRetryDelaysMs,
      maxIntervalMs: tuning.maxRetryIntervalMs,
      startMs: this.#startMs(),
      horizonMs: this.#services.config.maxQueueAgeMs,
      nowMs: this.#services.now().getTime(),
    });
    if (next.kind === 'expired') return this.#expire(error, `${attempts} attempts`);
    await this.#note({ error, nextAttemptAt: this.#at(next.delayMs) });
    await this.#services.outbound.enqueue({ ...this.#pointer, attempts }, next.delayMs);
    this.#summary({
      level: 'info',
      event: 'MESSAGE_DEFERRED',
      facts: { code: error.code, graph: error.graph, delayMs: next.delayMs },
    });
  }

  /** The tenant withdrew consent: keep the message with that reason, no attempt counted, no Graph request. */
  async #hold(error: BridgeError, delayMs: number): Promise<void> {
    const record = this.#owned();
    this.#record =
      (await this.#services.store.tryUpdate(record, { phase: 'waiting', error }, this.#services.now())) ??
      record;
    await this.#services.outbound.enqueue(this.#pointer, delayMs);
    this.#log.warn({ event: 'MESSAGE_HELD', code: error.code, delayMs });
  }

  /** Waits without counting an attempt (pacing, another live attempt). */
  async #requeue(delayMs: number, why: string): Promise<void> {
    await this.#services.outbound.enqueue(this.#pointer, delayMs);
    this.#log.info({ event: 'MESSAGE_REQUEUED', why, delayMs });
  }

  /** Waits for the next Sent Items look-up, saying when in the record. */
  async #waitFor(delayMs: number, why: string): Promise<void> {
    await this.#note({ nextAttemptAt: this.#at(delayMs) });
    await this.#requeue(delayMs, why);
  }

  /**
   * The last dequeue of a pointer failed (storage trouble): put a fresh pointer on the queue, delayed like a
   * retry, so the message keeps its place until the horizon instead of falling into the poison queue. When
   * even that fails, the host moves this pointer to the poison queue; the record and the body stay.
   */
  async putBack(error: BridgeError): Promise<void> {
    const delayMs = Math.min(this.#services.tuning.maxRetryIntervalMs, 5 * 60_000);
    try {
      await this.#services.outbound.enqueue(this.#pointer, delayMs);
      this.#log.warn({
        event: 'MESSAGE_REQUEUED',
        why: `dequeued ${this.#dequeueCount} times`,
        code: error.code,
        delayMs,
      });
    } catch (err) {
      this.#log.error({
        event: 'QUEUE_POISON',
        code: error.code,
        dequeueCount: this.#dequeueCount,
        err: toBridgeError(err),
      });
      throw error;
    }
  }

  /** The horizon is reached: the message ends failed, with the last error as its reason, its body kept. */
  async #expire(lastError: BridgeError, after: string): Promise<void> {
    const error = bridgeError('MESSAGE_EXPIRED', {
      detail: `not delivered within BRIDGE_MAX_QUEUE_AGE_MS (${after}); last error ${lastError.code}: ${lastError.message}`,
      ...(lastError.graph ? { graph: lastError.graph } : {}),
    });
    await this.#finish(error);
  }

  /** Records a final failure; the stored copy is kept for the retention period. */
  async #finish(error: BridgeError): Promise<void> {
    const { store } = this.#services;
    const record = this.#record ?? (await store.get(this.#pointer.siteId, this.#pointer.messageId));
    if (record)
      this.#record =
        (await store.tryUpdate(
          record,
          { state: 'failed', phase: 'done', error, nextAttemptAt: undefined },
          this.#services.now(),
        )) ?? record;
    await this.#keepForRetention();
    this.#summary({ level: failureLevel(error), event: 'MESSAGE_FAILED', facts: { code: error.code } });
  }

  async #keepForRetention(): Promise<void> {
    await this.#services.outbound
      .keepForRetention(this.#pointer, this.#services.now())
      .catch((err: unknown) => {
        // The backstop lifecycle rule still removes it later; the outcome is recorded either way.
        this.#log.warn({
          event: 'MESSAGE_FAILED',
          detail: 'could not tag the kept copy',
          err: toBridgeError(err),
        });
      });
  }

  /** Writes progress facts (last error, next attempt) to the record; a lost race just keeps the old copy. */
  async #note(changes: RecordChanges): Promise<void> {
    const written = await this.#services.store.tryUpdate(this.#owned(), changes, this.#services.now());
    if (written) this.#record = written;
  }

  #startMs(): number {
    if (this.#receivedMs !== undefined) return this.#receivedMs;
    const created = Date.parse(this.#owned().createdAt);
    return Number.isNaN(created) ? this.#services.now().getTime() : created;
  }

  #pastHorizon(): boolean {
    return this.#services.now().getTime() >= this.#startMs() + this.#services.config.maxQueueAgeMs;
  }

  #at(delayMs: number): string {
    return new Date(this.#services.now().getTime() + delayMs).toISOString();
  }

  #owned(): MessageRecord {
    if (!this.#record) throw bridgeError('INTERNAL', { detail: 'queued message not claimed' });
    return this.#record;
  }

  /** The attempt's summary line; on this path it also says how often the queue delivered the pointer. */
  #summary(summary: AttemptSummary): void {
    logAttemptSummary(this.#log, this.#record, this.#startedMs, {
      ...summary,
      facts: { dequeueCount: this.#dequeueCount, ...summary.facts },
    });
  }
}

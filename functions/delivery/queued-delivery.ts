import { randomUUID } from 'node:crypto';

import type { InvocationContext } from '@azure/functions';

import { bridgeError, toBridgeError, type BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { failureLevel, finalSummary, logAttemptSummary, type AttemptSummary } from './attempt-summary';
import { deliverOnce, planForSite } from './graph-attempt';
import type { DeliveryPlan } from './delivery-plan';
import { invocationLogger } from '../invocation-logger';
import type { FunctionServices, Mailer, ServicesGetter } from '../services';
import { judgeAttempt } from '../state/attempt-decision';
import type { MessageRecord } from '../state/message-record';
import { parseQueuePointer, type QueuePointer } from '../state/outbound-queue';
import { resolveSite } from '../tenants/site-directory';
import { passTenantGate } from '../tenants/tenant-gate';

/** The queue trigger's function name (functions/index.ts registers it; the local host polls as it). */
export const SEND_QUEUED_FUNCTION = 'sendQueued';

/**
 * The queue-triggered sender: loads a queued message from Blob Storage and sends it, paced per sender
 * mailbox across all instances. It never sleeps long: when the mailbox is at its limit or Graph asks to
 * wait (Retry-After), it puts a new pointer on the queue that stays invisible for the delay and returns,
 * so the host deletes the current one. A final outcome (sent, failed) deletes the stored copy.
 *
 * Throwing is reserved for storage failures: the host then makes the message visible again and counts a
 * dequeue; on the last dequeue the handler records a failure instead of throwing (poison with a reason).
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
      await job.giveUp(error, `the queue delivered it ${dequeueCount} times`);
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
    if (existing.state === 'sent' || existing.state === 'failed') {
      await outbound.delete(p); // a duplicate pointer or a crash after the final write: nothing to send
      return;
    }
    const decision =
      claim?.kind === 'new'
        ? ({ kind: 'take-over' } as const)
        : judgeAttempt(existing, now, tuning.attemptStaleMs);
    if (decision.kind === 'in-progress')
      return this.#requeue(decision.retryAfterMs, 'another attempt is running');
    this.#record = existing;
    if (decision.kind === 'outcome-unknown') {
      return this.#finish(
        bridgeError('GRAPH_OUTCOME_UNKNOWN', {
          detail: 'an earlier attempt stopped while its Graph request may have been in flight',
        }),
      );
    }
    const taken = await store.tryUpdate(
      existing,
      { attemptId: this.#attemptId, state: 'queued', phase: 'waiting' },
      now,
    );
    if (!taken) return this.#requeue(1000, 'record changed meanwhile');
    this.#record = taken;

    const stored = await outbound.loadChunks(p); // chunks: the message is never joined into a second copy
    if (!stored) return this.#finish(bridgeError('QUEUED_COPY_MISSING'));
    const site = await resolveSite(this.#services.config, this.#services.registry, p.siteId, now);
    // The site was removed from both the registry and the settings after the message was accepted: keep the
    // message (custody) until the site comes back or an admin deletes it.
    if (!site)
      return this.#hold(
        bridgeError('SITE_UNKNOWN', { detail: `site "${p.siteId}" is gone` }),
        tuning.tenantProbeMs,
      );
    this.#log = this.#log.child({ tenant: site.tenantId }); // per-tenant figures (monitoring workbook)
    let plan: DeliveryPlan;
    let mailer: Mailer;
    try {
      plan = await planForSite(this.#services, site, stored.mime, stored.envelope);
      mailer = this.#services.mailerFor(site.tenantId, this.#log);
    } catch (err) {
      const error = toBridgeError(err);
      return error.retryable ? this.#retryLater(error) : this.#finish(error);
    }

    const gate = await passTenantGate(this.#services, site.tenantId, mailer, this.#log);
    if (!gate.open) return this.#hold(gate.error, gate.retryAfterMs);
    const slot = await this.#services.pacer.acquire(plan.mailbox, tuning.pacingWaitMs);
    if (!slot.granted) return this.#requeue(slot.retryAfterMs, `mailbox ${slot.reason} limit`);
    try {
      const outcome = await deliverOnce(this.#services, this.#log, this.#owned(), plan, mailer);
      switch (outcome.kind) {
        case 'lost-race':
          return;
        case 'sent':
        case 'failed':
          this.#record = outcome.record;
          await outbound.delete(p);
          this.#summary(finalSummary(outcome));
          return;
        case 'retryable':
          this.#record = outcome.record;
          return this.#retryLater(outcome.error, false);
      }
    } finally {
      await slot.lease.release();
    }
  }

  /** A retryable failure: try again after Retry-After (or the backoff table), or give up after the last attempt. */
  async #retryLater(error: BridgeError, countAttempt = true): Promise<void> {
    const { tuning, store } = this.#services;
    let record = this.#owned();
    if (countAttempt) {
      record =
        (await store.tryUpdate(
          record,
          { attempts: record.attempts + 1, phase: 'waiting', error },
          this.#services.now(),
        )) ?? record;
      this.#record = record;
    }
    const attempts = Math.max(record.attempts, this.#pointer.attempts + 1);
    if (attempts >= tuning.maxQueueAttempts) return this.giveUp(error, `${attempts} attempts`);
    const delays = tuning.queueRetryDelaysMs;
    const delayMs = error.retryAfterMs ?? delays[Math.min(attempts - 1, delays.length - 1)] ?? 60_000;
    await this.#services.outbound.enqueue({ ...this.#pointer, attempts }, delayMs);
    this.#summary({
      level: 'info',
      event: 'MESSAGE_DEFERRED',
      facts: { code: error.code, graph: error.graph, delayMs },
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

  /** Poison: the message ends failed, with the last error as its reason. */
  async giveUp(lastError: BridgeError, after: string): Promise<void> {
    const error = bridgeError('MESSAGE_EXPIRED', {
      detail: `gave up after ${after}; last error ${lastError.code}: ${lastError.message}`,
      ...(lastError.graph ? { graph: lastError.graph } : {}),
    });
    this.#log.error({ event: 'QUEUE_POISON', code: lastError.code, dequeueCount: this.#dequeueCount });
    await this.#finish(error);
  }

  /** Records a final failure and removes the stored copy. */
  async #finish(error: BridgeError): Promise<void> {
    const { store, outbound } = this.#services;
    const record = this.#record ?? (await store.get(this.#pointer.siteId, this.#pointer.messageId));
    if (record)
      this.#record =
        (await store.tryUpdate(record, { state: 'failed', phase: 'done', error }, this.#services.now())) ??
        record;
    await outbound.delete(this.#pointer);
    this.#summary({ level: failureLevel(error), event: 'MESSAGE_FAILED', facts: { code: error.code } });
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

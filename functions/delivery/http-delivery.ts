import { randomUUID } from 'node:crypto';

import type { Envelope } from '../../core/envelope';
import { bridgeError, toBridgeError, type BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { MailboxLease } from '../pacing/mailbox-pacer';
import type { FunctionServices } from '../services';
import type { MessageRecord } from '../state/message-record';
import type { ResolvedSite } from '../tenants/site-directory';
import { passTenantGate } from '../tenants/tenant-gate';
import { finalSummary, logAttemptSummary, type AttemptSummary } from './attempt-summary';
import { claimMessage } from './claim-message';
import type { DeliveryChecks, DeliveryPlan } from './delivery-plan';
import { checkForSite, deliverOnce, planForSite } from './graph-attempt';
import { recordAnswer, refusal, statusForState, type IntakeAnswer } from './intake-answer';

/**
 * A message the edge POSTs, once http/ has verified the site's signature over the headers: claim the id →
 * read and check the body → plan → send now (small, within budget, mailbox slot free) or store and queue →
 * answer (IntakeAnswer, which http/ turns into the WireResult response).
 */
export interface IntakeRequest {
  siteId: string;
  messageId: string;
  /** The site as the registry or the app settings define it (tenant, senders, rate). */
  site: ResolvedSite;
  /** Streams the framed body and checks it against the signed digest (http/read-framed-body.ts). */
  readBody(): Promise<ReceivedBody>;
}

export interface ReceivedBody {
  envelope: Envelope;
  /** The message as the chunks it was read in (never joined into a second copy). */
  mime: readonly Buffer[];
  mimeBytes: number;
}

/** Never throws: a storage or unexpected failure after the claim gives the id back and is refused (retryable). */
export async function receiveMessage(
  services: FunctionServices,
  log: Logger,
  req: IntakeRequest,
): Promise<IntakeAnswer> {
  const intake = new MessageIntake(
    services,
    log.child({ site: req.siteId, id: req.messageId, tenant: req.site.tenantId }),
    req,
  );
  try {
    return await intake.run();
  } catch (err) {
    // Give the id back so the edge's retry can proceed.
    const error = toBridgeError(err);
    await intake.release(error);
    log.error({
      event: 'MESSAGE_DEFERRED',
      site: req.siteId,
      id: req.messageId,
      code: error.code,
      err: error,
    });
    return refusal(error);
  }
}

class MessageIntake {
  readonly #services: FunctionServices;
  readonly #log: Logger;
  readonly #req: IntakeRequest;
  readonly #attemptId = randomUUID();
  readonly #startedMs = Date.now();
  /** The record as this attempt last wrote it (undefined until claimed). */
  #record: MessageRecord | undefined;

  constructor(services: FunctionServices, log: Logger, req: IntakeRequest) {
    this.#services = services;
    this.#log = log;
    this.#req = req;
  }

  async run(): Promise<IntakeAnswer> {
    const claim = await claimMessage(this.#services, this.#log, this.#req, this.#attemptId);
    if (claim.kind === 'answered') return claim.answer;
    this.#record = claim.record;
    const lookFirst = claim.lookFirst === true;

    let body: ReceivedBody;
    try {
      body = await this.#req.readBody();
      if (body.envelope.messageId !== this.#req.messageId || body.envelope.siteId !== this.#req.siteId) {
        throw bridgeError('WIRE_MALFORMED', {
          detail: 'envelope id or site differs from the signed headers',
        });
      }
    } catch (err) {
      const error = toBridgeError(err);
      if (error.code === 'MESSAGE_TOO_LARGE' && !lookFirst) return this.#fail(error, 'MESSAGE_REJECTED');
      await this.release(error);
      this.#log.warn({ event: 'REQUEST_REJECTED', code: error.code, err: error });
      return refusal(error);
    }

    // The message may already be in Exchange: never send from here; the queue looks in Sent Items first.
    if (lookFirst) return this.#queue(body, this.#lookDelayMs(), 'outcome unknown', 0, 'unknown');

    // A message too large to send now is only checked here (same refusals, no decoded files kept): the queue
    // trigger plans it again from the stored copy. It is never sent from these checks.
    const site = this.#req.site;
    const large = body.mimeBytes > this.#services.config.syncMaxBytes;
    let checks: DeliveryChecks;
    let plan: DeliveryPlan | undefined;
    try {
      if (large) checks = await checkForSite(this.#services, site, body.mime, body.envelope);
      else checks = plan = await planForSite(this.#services, site, body.mime, body.envelope);
    } catch (err) {
      const error = toBridgeError(err);
      if (!error.retryable)
        return this.#fail(error, 'MESSAGE_REJECTED', {
          sizeBytes: body.mimeBytes,
          recipientCount: body.envelope.rcptTo.length,
        });
      throw error;
    }
    if (checks.senderRewritten) this.#log.info({ event: 'SENDER_REWRITTEN', mailbox: checks.mailbox });
    await this.#update({
      sender: checks.mailbox,
      senderRewritten: checks.senderRewritten,
      sizeBytes: body.mimeBytes,
      recipientCount: checks.recipients.length,
    });

    if (plan === undefined) return this.#queue(body, 0, 'large');
    if (Date.now() - this.#startedMs >= this.#services.config.syncBudgetMs)
      return this.#queue(body, 0, 'sync budget spent');
    return this.#sendNow(body, plan, site.tenantId);
  }

  async #sendNow(
    body: ReceivedBody,
    plan: DeliveryPlan,
    tenantId: string | undefined,
  ): Promise<IntakeAnswer> {
    let mailer;
    try {
      mailer = this.#services.mailerFor(tenantId, this.#log);
    } catch (err) {
      // No credentials: the function cannot send; the edge keeps the message (503) until an admin fixes it.
      const error = toBridgeError(err);
      await this.release(error);
      this.#log.error({ event: 'MESSAGE_DEFERRED', code: error.code, err: error });
      return refusal(error);
    }
    const gate = await passTenantGate(this.#services, tenantId, mailer, this.#log);
    if (!gate.open) {
      // Held, not failed: stored and queued with the tenant's reason; the queue path tries again.
      await this.#update({ error: gate.error });
      this.#log.warn({ event: 'MESSAGE_HELD', code: gate.error.code, tenant: tenantId });
      return this.#queue(body, gate.retryAfterMs, gate.error.code);
    }
    const slot = await this.#services.pacer.acquire(plan.mailbox, 0);
    if (!slot.granted) return this.#queue(body, slot.retryAfterMs, `mailbox ${slot.reason} limit`);
    const lease: MailboxLease = slot.lease;
    try {
      const outcome = await deliverOnce(this.#services, this.#log, this.#owned(), plan, mailer);
      switch (outcome.kind) {
        case 'lost-race':
          return refusal(bridgeError('MESSAGE_IN_PROGRESS'));
        case 'sent':
          this.#record = outcome.record;
          this.#summary(finalSummary(outcome));
          return recordAnswer(200, outcome.record);
        case 'failed':
          this.#record = outcome.record;
          this.#summary(finalSummary(outcome));
          return recordAnswer(statusForState('failed', outcome.error), outcome.record);
        case 'unknown':
          // Never a 5xx for a message that may be in Exchange: 202, and the cloud finds out.
          this.#record = outcome.record;
          this.#log.warn({
            event: 'MESSAGE_OUTCOME_UNKNOWN',
            code: outcome.error.code,
            graph: outcome.error.graph,
          });
          return this.#queue(body, this.#lookDelayMs(), outcome.error.code, 1, 'unknown');
        case 'retryable':
          this.#record = outcome.record;
          this.#log.info({
            event: 'MESSAGE_DEFERRED',
            code: outcome.error.code,
            graph: outcome.error.graph,
            retryAfterMs: outcome.error.retryAfterMs,
          });
          return this.#queue(body, outcome.error.retryAfterMs ?? 0, outcome.error.code, 1);
      }
    } finally {
      await lease.release();
    }
  }

  /**
   * Stores the frame, puts its pointer on the queue, then records 'queued' (in that order: never a 'queued'
   * record without a pointer). `phase` 'unknown' keeps a lost answer marked, so the queue looks in Sent
   * Items before it sends.
   */
  async #queue(
    body: ReceivedBody,
    delayMs: number,
    why: string,
    attempts = 0,
    phase: 'waiting' | 'unknown' = 'waiting',
  ): Promise<IntakeAnswer> {
    const pointer = await this.#services.outbound.store(body.envelope, body.mime, this.#services.now());
    pointer.attempts = attempts;
    await this.#services.outbound.enqueue(pointer, delayMs);
    const nextAttemptAt = new Date(this.#services.now().getTime() + delayMs).toISOString();
    const queued = await this.#services.store.tryUpdate(
      this.#owned(),
      { state: 'queued', phase, nextAttemptAt },
      this.#services.now(),
    );
    // A null here means the queue-triggered sender already picked the message up and wrote its own state.
    const record =
      queued ?? (await this.#services.store.get(this.#req.siteId, this.#req.messageId)) ?? this.#owned();
    this.#record = record;
    this.#summary({ level: 'info', event: 'MESSAGE_QUEUED', facts: { why, delayMs } });
    return recordAnswer(202, record);
  }

  /** Until the first Sent Items look-up: the lag, counted from when the answer was lost. */
  #lookDelayMs(): number {
    const since = Date.parse(this.#owned().unknownSince ?? '');
    const elapsed = Number.isNaN(since) ? 0 : this.#services.now().getTime() - since;
    return Math.max(0, this.#services.tuning.sentItemsLagMs - elapsed);
  }

  async #fail(
    error: BridgeError,
    event: 'MESSAGE_REJECTED' | 'MESSAGE_FAILED',
    facts: { sizeBytes?: number; recipientCount?: number } = {},
  ): Promise<IntakeAnswer> {
    const failed = await this.#services.store.tryUpdate(
      this.#owned(),
      { ...facts, state: 'failed', phase: 'done', error },
      this.#services.now(),
    );
    if (failed) this.#record = failed;
    this.#summary({ level: 'warn', event, facts: { code: error.code } });
    return failed ? recordAnswer(statusForState('failed', error), failed) : refusal(error);
  }

  /** Gives the id back after a failure before Graph, so the next attempt may take over at once. */
  async release(error: BridgeError): Promise<void> {
    const record = this.#record;
    if (!record || record.state !== 'received' || record.phase === 'graph' || record.phase === 'unknown')
      return;
    await this.#services.store
      .tryUpdate(record, { phase: 'released', error }, this.#services.now())
      .then((r) => {
        if (r) this.#record = r;
      })
      .catch(() => undefined); // storage itself may be the failure; the record then goes stale and is taken over later
  }

  async #update(changes: Parameters<FunctionServices['store']['tryUpdate']>[1]): Promise<void> {
    const updated = await this.#services.store.tryUpdate(this.#owned(), changes, this.#services.now());
    if (!updated)
      throw bridgeError('MESSAGE_IN_PROGRESS', {
        detail: 'another attempt took the message over',
        retryAfterMs: 1000,
      });
    this.#record = updated;
  }

  #owned(): MessageRecord {
    if (!this.#record) throw bridgeError('INTERNAL', { detail: 'message not claimed' });
    return this.#record;
  }

  #summary(summary: AttemptSummary): void {
    logAttemptSummary(this.#log, this.#record, this.#startedMs, summary);
  }
}

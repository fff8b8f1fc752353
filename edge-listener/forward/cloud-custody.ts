import { MAX_RETRY_INTERVAL_MS } from '../../core/custody';
import { type BridgeError, bridgeError, deserializeBridgeError, isBridgeErrorCode } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { SerializedBridgeError } from '../../core/errors';
import type { WireResult } from '../../core/wire';
import type { HttpAnswer } from '../doctor/function-requests';
import type { EdgeEvents } from '../events';
import type { SpoolMeta } from '../spool/entry';
import type { Spool } from '../spool/spool';
import { submissionId } from '../spool/submission-id';
import { type BackoffPolicy, retryDelayMs } from './backoff';

/**
 * The edge's half of "custody until the cloud confirms" (docs/design/custody-edge.md). When the function
 * answers 202 (queued: it holds the message in Blob Storage and its queue sender tries), the edge does NOT
 * drop its copy: the entry becomes `cloud` and this module reads the cloud's state of it (signed
 * GET /api/v1/messages/{id}, core/wire.ts), with backoff, until the cloud says
 *
 *   sent    → the entry is done (a done record; the body goes),
 *   failed  → the entry is failed BY THE FUNCTION with its body and the cloud's reason: an admin retry
 *             resubmits it under `<id>.r<n>` (one needing confirmation when Graph may have sent it),
 *   queued / received → read again later, no later than the cloud's own next attempt (or 30 min),
 *   no record (404 MESSAGE_NOT_FOUND) → the function never took it, or lost it: the entry goes back to
 *             the POST schedule under the SAME id, which the function's idempotency makes safe,
 *   anything else (no answer, 5xx, auth) → read again with backoff; the reason is shown on the page.
 *
 * Past the horizon (BRIDGE_MAX_QUEUE_AGE_MS) plus one longest retry interval without a final answer the
 * entry ends failed by the EDGE (MESSAGE_EXPIRED): a retry then keeps its id, so the function answers with
 * what it recorded and nothing is sent twice.
 */
export type CloudStateFetcher = (submissionId: string) => Promise<HttpAnswer>;

export interface CloudCustodyOptions {
  spool: Spool;
  fetchState: CloudStateFetcher;
  backoff: BackoffPolicy;
  maxQueueAgeMs: number;
  logger: Logger;
  events: EdgeEvents;
}

export type CloudCheck =
  | { kind: 'sent'; result: WireResult }
  | { kind: 'failed'; error: BridgeError; result: WireResult }
  | { kind: 'waiting'; result: WireResult }
  | { kind: 'no-record' }
  | { kind: 'unreadable'; error: BridgeError };

/** What one state read says (pure; the answer of the status route, or the error of a read that got none). */
export function classifyCloudAnswer(answer: HttpAnswer, sid: string): CloudCheck {
  const body = answer.json as Partial<WireResult> | undefined;
  if (answer.status === 200 && body && typeof body.state === 'string') {
    if (body.id !== undefined && body.id !== sid)
      return unreadable(`the answer names another message id (${String(body.id).slice(0, 60)})`);
    const result = body as WireResult;
    if (body.state === 'sent') return { kind: 'sent', result };
    if (body.state === 'failed') {
      const e = body.error;
      const error =
        e && isBridgeErrorCode(e.code)
          ? deserializeBridgeError(e)
          : bridgeError('FUNCTION_BAD_RESPONSE', { detail: 'the cloud says failed without a known reason' });
      return { kind: 'failed', error, result };
    }
    if (body.state === 'queued' || body.state === 'received') return { kind: 'waiting', result };
    return unreadable(`unknown state ${String(body.state).slice(0, 30)}`);
  }
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  if (answer.status === 404 && code === 'MESSAGE_NOT_FOUND') return { kind: 'no-record' };
  return unreadable(`HTTP ${answer.status}${typeof code === 'string' ? ` ${code}` : ''}`);
}

function unreadable(detail: string): CloudCheck {
  return {
    kind: 'unreadable',
    error: bridgeError('FUNCTION_UNREACHABLE', { detail: `state read: ${detail}` }),
  };
}

export class CloudCustody {
  readonly #o: CloudCustodyOptions;

  constructor(options: CloudCustodyOptions) {
    this.#o = options;
  }

  /** The entry after a 202: kept with its body, state `cloud`, first read soon. */
  async hold(id: string, meta: SpoolMeta, result: WireResult): Promise<void> {
    const now = Date.now();
    const next: SpoolMeta = {
      ...meta,
      state: 'cloud',
      nextAttemptAt: new Date(now + this.#delayMs(0, result, now)).toISOString(),
      cloud: { queuedAt: new Date(now).toISOString(), checks: 0, ...cloudTimes(result) },
    };
    if (result.lastError) next.lastError = result.lastError;
    else delete next.lastError;
    await this.#o.spool.saveMeta(id, next);
  }

  /** One state read of a `cloud` entry, and what follows from it. The caller holds the entry's claim. */
  async check(id: string, meta: SpoolMeta): Promise<void> {
    const { spool, logger, events } = this.#o;
    const sid = submissionId(id, meta.resubmissions);
    const now = Date.now();
    const checks = (meta.cloud?.checks ?? 0) + 1;
    let outcome: CloudCheck;
    try {
      outcome = classifyCloudAnswer(await this.#o.fetchState(sid), sid);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'ERROR';
      outcome = unreadable(`no answer (${code})`);
    }
    const cloud = {
      queuedAt: meta.cloud?.queuedAt ?? new Date(now).toISOString(),
      checks,
      lastCheckedAt: new Date(now).toISOString(),
    };
    logger.debug(
      { event: 'CLOUD_STATE_CHECKED', mid: id, sid, check: checks, outcome: outcome.kind },
      'read the cloud state',
    );
    if (outcome.kind === 'sent') {
      await spool.complete(id, { ...meta, cloud }, 'sent', outcome.result);
      logger.info(
        {
          event: 'MESSAGE_SENT',
          mid: id,
          sid,
          via: 'cloud',
          reconciled: outcome.result.reconciled === true,
          graphRequestId: outcome.result.graphRequestId,
          sender: outcome.result.sender,
        },
        'the cloud sent the message',
      );
      events.emit('outcome', { id, kind: 'sent', attempt: meta.attempts, durationMs: 0 });
      return;
    }
    if (outcome.kind === 'failed') {
      await spool.saveMeta(id, {
        ...meta,
        cloud,
        state: 'failed',
        failedBy: 'function',
        failedAt: new Date(now).toISOString(),
        lastError: outcome.error.toJSON(),
      });
      logger.warn(
        { event: 'MESSAGE_FAILED', mid: id, sid, via: 'cloud', code: outcome.error.code },
        'the cloud failed the message; kept with its body for an admin',
      );
      events.emit('outcome', {
        id,
        kind: 'failed',
        attempt: meta.attempts,
        durationMs: 0,
        code: outcome.error.code,
      });
      return;
    }
    if (outcome.kind === 'no-record') {
      // The function has no record: it never took the message (or lost it). Post again, same id.
      const next: SpoolMeta = { ...meta, state: 'queued', nextAttemptAt: new Date(now).toISOString() };
      delete next.cloud;
      await spool.saveMeta(id, next);
      logger.warn(
        { event: 'CLOUD_STATE_CHECKED', mid: id, sid, outcome: 'no-record' },
        'the function has no record of a message it queued; posting it again under the same id',
      );
      return;
    }
    const horizon =
      Date.parse(meta.retriedAt ?? meta.envelope.receivedAt) + this.#o.maxQueueAgeMs + MAX_RETRY_INTERVAL_MS;
    if (now >= horizon) {
      const last = outcome.kind === 'unreadable' ? outcome.error.code : 'still queued in the cloud';
      await spool.saveMeta(id, {
        ...meta,
        cloud,
        state: 'failed',
        failedBy: 'edge',
        failedAt: new Date(now).toISOString(),
        lastError: bridgeError('MESSAGE_EXPIRED', {
          detail: `no final answer from the cloud (${last})`,
        }).toJSON(),
      });
      logger.warn(
        { event: 'MESSAGE_FAILED', mid: id, sid, via: 'cloud', code: 'MESSAGE_EXPIRED' },
        'no final answer from the cloud within the horizon',
      );
      events.emit('outcome', {
        id,
        kind: 'failed',
        attempt: meta.attempts,
        durationMs: 0,
        code: 'MESSAGE_EXPIRED',
      });
      return;
    }
    const result = outcome.kind === 'waiting' ? outcome.result : undefined;
    const next: SpoolMeta = {
      ...meta,
      cloud: { ...cloud, ...(result ? cloudTimes(result) : pick(meta.cloud)) },
      nextAttemptAt: new Date(Math.min(now + this.#delayMs(checks, result, now), horizon)).toISOString(),
    };
    if (result?.lastError) next.lastError = result.lastError as SerializedBridgeError;
    if (outcome.kind === 'unreadable') next.cloud!.checkError = outcome.error.toJSON();
    await spool.saveMeta(id, next);
  }

  /**
   * Wait before the next read: the backoff; when the cloud tries later than that, until just after its try
   * (at most 4× the backoff, reading in between costs little); never longer than 30 min.
   */
  #delayMs(checks: number, result: WireResult | undefined, now: number): number {
    const base = retryDelayMs(this.#o.backoff, Math.max(checks, 1));
    const cloudNext = result?.nextAttemptAt ? Date.parse(result.nextAttemptAt) - now + 2000 : undefined;
    const wanted =
      cloudNext !== undefined && cloudNext > 0 ? Math.max(base, Math.min(cloudNext, base * 4)) : base;
    return Math.min(wanted, MAX_RETRY_INTERVAL_MS);
  }
}

function cloudTimes(result: WireResult): { nextAttemptAt?: string } {
  return result.nextAttemptAt ? { nextAttemptAt: result.nextAttemptAt } : {};
}

function pick(cloud: SpoolMeta['cloud']): { nextAttemptAt?: string } {
  return cloud?.nextAttemptAt ? { nextAttemptAt: cloud.nextAttemptAt } : {};
}

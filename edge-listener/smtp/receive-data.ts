import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

import { type BridgeError, bridgeError, toBridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { EdgeEvents } from '../events';
import { ClientReply } from '../forward/client-reply';
import type { Forwarder, FreshOutcome } from '../forward/forwarder';
import type { HoldDecision, ReplyHoldPolicy } from '../forward/reply-hold-policy';
import type { HeldMessage } from '../spool/held-message';
import type { EnvelopeParts } from '../spool/intake-writer';
import type { Spool } from '../spool/spool';
import { DataGuard } from './data-guard';
import { headerFromAddresses, MAX_HEADER_BYTES } from './header-from';
import { acceptedText, smtpReply, type SmtpReplyError } from './replies';
import { unboundClaims } from './sender-bindings';

export interface ReceiveDeps {
  spool: Spool;
  forwarder: Forwarder;
  budgetMs: number;
  /** Which replies wait for the function's answer (BRIDGE_REPLY_HOLD). */
  replyHold: ReplyHoldPolicy;
  maxMessageBytes: number;
  logger: Logger;
  events: EdgeEvents;
}

export type ReceiveResult = { text: string } | { error: SmtpReplyError };

/** From headers are looked for in this much of a message when only the reply-hold policy needs them. */
const ROUTE_HEADER_BYTES = 8 * 1024;

/**
 * One DATA transaction: stream into the spool while checking line endings, refuse (nothing kept) or commit,
 * then post to the function and — when the reply-hold policy holds this reply (forward/reply-hold-policy.ts;
 * otherwise 250 "queued as <id>" at once) — wait up to the budget for its answer:
 *   sent / queued by the function  → 250 "sent as <id>" / "queued as <id>"
 *   rejected (definite, permanent) → the function's 5xx with code and reason, shown on the device panel
 *   slow, failing, ambiguous       → 250 "queued as <id>"; the spool retries
 * The whole stream is always read, even when refusing early, so the session stays in sync.
 */
export async function receiveMessage(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  parts: EnvelopeParts,
  deps: ReceiveDeps,
): Promise<ReceiveResult> {
  const { spool, logger, events } = deps;
  const log = { sid: session.id, client: session.remoteAddress };
  let refusal: BridgeError | undefined;
  const writer = await spool.beginMessage().catch((e: unknown) => {
    refusal = toBridgeError(e);
    return undefined;
  });
  const guard = new DataGuard();
  // The header block, kept for a device bound to its senders (checked at the end of DATA) and, its first
  // few KiB, for the reply-hold policy's route (the From header names the mailbox that sends).
  const head: Buffer[] = [];
  const headLimit = parts.senderBinding
    ? MAX_HEADER_BYTES
    : deps.replyHold.wantsHeaderFrom
      ? ROUTE_HEADER_BYTES
      : 0;
  let headBytes = MAX_HEADER_BYTES - headLimit;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      guard.push(chunk);
      if (headBytes < MAX_HEADER_BYTES) {
        const piece = chunk.subarray(0, MAX_HEADER_BYTES - headBytes);
        head.push(Buffer.from(piece));
        headBytes += piece.length;
      }
      if (writer && !stream.sizeExceeded) await writer.write(chunk);
    }
  } catch (e) {
    // The client went away mid-DATA: it got no reply, so nothing may be kept.
    await writer?.discard();
    logger.info(
      { event: 'SMTP_ERROR', ...log, err: toBridgeError(e).code, detail: 'connection lost during DATA' },
      'client left during DATA',
    );
    return { error: smtpReply(bridgeError('INTERNAL', { detail: 'connection lost' })) };
  }
  const violation = guard.finish();
  if (stream.sizeExceeded)
    refusal = bridgeError('MESSAGE_TOO_LARGE', { detail: `limit is ${deps.maxMessageBytes} bytes` });
  else if (violation) refusal = bridgeError(violation);
  // A write that failed (disk full) leaves the writer empty: that is SPOOL_FULL (4xx), not an empty message.
  else if (!refusal && writer?.failure) refusal = writer.failure;
  else if (!refusal && writer?.bytes === 0)
    refusal = bridgeError('MIME_UNPARSEABLE', { detail: 'empty message' });
  refusal ??= writer?.failure;
  // Every From address in the header block (binding check, reply-hold route); read once.
  const headerFrom = headLimit > 0 ? headerFromAddresses(Buffer.concat(head)) : [];
  if (!refusal && parts.senderBinding) refusal = bindingRefusal(parts, headerFrom);
  if (refusal || !writer) {
    await writer?.discard();
    const err = refusal ?? bridgeError('INTERNAL');
    logger.warn(
      {
        event: err.code === 'SPOOL_FULL' ? 'SPOOL_FULL' : 'SMTP_MESSAGE_REFUSED',
        ...log,
        code: err.code,
        bytes: stream.byteLength,
      },
      'message refused',
    );
    events.emit('refused', { stage: 'data', code: err.code });
    return { error: smtpReply(err) };
  }

  let meta;
  try {
    meta = await writer.commit(parts, deps.forwarder.firstRetryAtMs());
  } catch (e) {
    const err = toBridgeError(e);
    logger.error(
      {
        event: err.code === 'SPOOL_FULL' ? 'SPOOL_FULL' : 'SPOOL_WRITE_FAILED',
        ...log,
        code: err.code,
        detail: err.detail,
      },
      'could not store the message',
    );
    return { error: smtpReply(err) };
  }
  const id = writer.id;
  const decision = deps.replyHold.decide(id, { ...parts, headerFrom }, deps.forwarder.inFlight);
  const reply = decision.hold ? 'held' : 'commit';
  logger.info(
    {
      event: 'SPOOL_STORED',
      ...log,
      mid: id,
      bytes: meta.mimeBytes,
      rcpts: meta.envelope.rcptTo.length,
      reply,
      why: decision.reason,
    },
    'message stored',
  );
  events.emit('accepted', {
    id,
    bytes: meta.mimeBytes,
    rcpts: meta.envelope.rcptTo.length,
    reply,
    why: decision.reason,
  });

  const outcome = await tryThenHold(deps.forwarder, meta, writer.body, budgetFor(decision, deps), logger);
  if (outcome.kind === 'rejected') return { error: smtpReply(outcome.error, id) };
  return { text: acceptedText(id, outcome.kind === 'sent') };
}

/** A held reply waits up to the budget; a reply at commit waits for nothing (budget 0). */
function budgetFor(decision: HoldDecision, deps: ReceiveDeps): number {
  return decision.hold ? deps.budgetMs : 0;
}

/** DEVICE_SENDER_NOT_BOUND when the message claims a sender its device is not bound to (sender-bindings.ts). */
function bindingRefusal(parts: EnvelopeParts, headerFrom: string[]): BridgeError | undefined {
  const binding = parts.senderBinding ?? [];
  const refused = unboundClaims(binding, headerFrom, parts.mailFrom);
  if (refused.length === 0) return undefined;
  const device = parts.authUser ? `user ${parts.authUser}` : parts.clientAddress;
  return bridgeError('DEVICE_SENDER_NOT_BOUND', {
    detail: `${device} may send as ${binding.join(', ')}, not ${refused.join(', ')}`,
  });
}

async function tryThenHold(
  forwarder: Forwarder,
  meta: Parameters<Forwarder['forwardFresh']>[0],
  body: HeldMessage | undefined,
  budgetMs: number,
  logger: Logger,
): Promise<FreshOutcome> {
  const reply = new ClientReply();
  const attempt = forwarder.forwardFresh(meta, reply, body).catch((e: unknown): FreshOutcome => {
    // A bug in forwarding must not lose the message or the 250: it is durable and will be retried.
    logger.error(
      { event: 'SMTP_ERROR', mid: meta.envelope.messageId, err: toBridgeError(e) },
      'first forward attempt failed unexpectedly',
    );
    return { kind: 'deferred' };
  });
  // A budget of 0 means "reply at commit": release the client now, before any answer can arrive, rather than
  // racing a 0 ms timer against a fast function (which would sometimes turn the reply into its rejection).
  if (budgetMs <= 0 && reply.release()) return { kind: 'deferred' };
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'budget'>((resolve) => {
    timer = setTimeout(() => resolve('budget'), budgetMs);
  });
  const first = await Promise.race([attempt, budget]);
  clearTimeout(timer);
  if (first !== 'budget') return first;
  // Budget spent: answer 250 now, unless the forwarder is already settling a rejection for this client.
  return reply.release() ? { kind: 'deferred' } : attempt;
}

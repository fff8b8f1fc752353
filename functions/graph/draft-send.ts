import { setTimeout as sleep } from 'node:timers/promises';

import { BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { DeliveryPlan, PlannedAttachment, SendReport } from '../delivery/delivery-plan';
import { UPLOAD_SESSION_MIN_BYTES } from './graph-limits';
import { bareMessage, fileAttachmentBody, uploadSessionRequest } from './graph-payload';
import {
  expectStatus,
  type CallMeter,
  type GraphAnswer,
  type GraphCall,
  type GraphTransport,
} from './graph-transport';
import { uploadInChunks, type ChunkRetryOptions } from './upload-session';

/**
 * The large-message path (docs/design/platform-facts.md §A2): create a draft without attachments, add each attachment —
 * small ones by POST, large ones through an upload session — then send the draft. Needs Mail.ReadWrite
 * besides Mail.Send. Only the final /send delivers mail; every step before it can be repeated safely, so a
 * failure before /send deletes the draft and leaves nothing behind.
 */

export interface DraftSendContext {
  transport: GraphTransport;
  logger: Logger;
  chunkBytes: number;
  timeoutMs: number;
  chunkRetry?: ChunkRetryOptions;
  meter: CallMeter;
}

function userPath(mailbox: string): string {
  return `/users/${encodeURIComponent(mailbox)}`;
}

/**
 * A step that cannot send mail, retried on 429 only: a 429 proves Graph did nothing, whereas a lost answer to
 * an attachment POST might leave the attachment added (repeating it would attach it twice).
 */
async function step(
  ctx: DraftSendContext,
  call: Omit<GraphCall, 'meter' | 'sending'>,
  ok: readonly number[],
): Promise<GraphAnswer> {
  const attempts = ctx.chunkRetry?.attempts ?? 5;
  const maxDelayMs = ctx.chunkRetry?.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return expectStatus(await ctx.transport.call({ ...call, sending: false, meter: ctx.meter }), ok);
    } catch (e) {
      const retryAfterMs =
        e instanceof BridgeError && e.code === 'GRAPH_THROTTLED' ? (e.retryAfterMs ?? 1000) : undefined;
      if (retryAfterMs === undefined || attempt >= attempts || retryAfterMs > maxDelayMs) throw e;
      await sleep(retryAfterMs);
    }
  }
}

async function addAttachment(
  ctx: DraftSendContext,
  messagePath: string,
  a: PlannedAttachment,
): Promise<void> {
  if (a.content.length < UPLOAD_SESSION_MIN_BYTES) {
    const body = fileAttachmentBody(a);
    await step(
      ctx,
      {
        method: 'POST',
        path: `${messagePath}/attachments`,
        route: 'POST /users/{m}/messages/{id}/attachments',
        body,
        contentType: 'application/json',
      },
      [201],
    );
    return;
  }
  const created = await step(
    ctx,
    {
      method: 'POST',
      path: `${messagePath}/attachments/createUploadSession`,
      route: 'POST /users/{m}/messages/{id}/attachments/createUploadSession',
      body: uploadSessionRequest(a),
      contentType: 'application/json',
    },
    [200, 201],
  );
  const session = (created.json ?? {}) as { uploadUrl?: unknown; nextExpectedRanges?: unknown };
  if (typeof session.uploadUrl !== 'string') {
    throw new BridgeError('GRAPH_UNAVAILABLE', {
      detail: 'createUploadSession answered without an uploadUrl',
      graph: { status: created.status, ...(created.requestId ? { requestId: created.requestId } : {}) },
    });
  }
  await uploadInChunks(
    {
      uploadUrl: session.uploadUrl,
      ...(Array.isArray(session.nextExpectedRanges)
        ? { nextExpectedRanges: session.nextExpectedRanges.map(String) }
        : {}),
    },
    a.content,
    {
      chunkBytes: ctx.chunkBytes,
      timeoutMs: ctx.timeoutMs,
      logger: ctx.logger,
      meter: ctx.meter,
      ...(ctx.chunkRetry ? { retry: ctx.chunkRetry } : {}),
    },
  );
}

async function discardDraft(ctx: DraftSendContext, messagePath: string): Promise<void> {
  try {
    const answer = await ctx.transport.call({
      method: 'DELETE',
      path: messagePath,
      route: 'DELETE /users/{m}/messages/{id}',
      sending: false,
      meter: ctx.meter,
    });
    ctx.logger.info({ event: 'GRAPH_DRAFT_DISCARDED', status: answer.status, requestId: answer.requestId });
  } catch (e) {
    ctx.logger.warn({
      event: 'GRAPH_DRAFT_DISCARDED',
      status: 0,
      code: e instanceof BridgeError ? e.code : 'INTERNAL',
    });
  }
}

export async function sendAsDraft(ctx: DraftSendContext, plan: DeliveryPlan): Promise<SendReport> {
  const user = userPath(plan.mailbox);
  const draft = await step(
    ctx,
    {
      method: 'POST',
      path: `${user}/messages`,
      route: 'POST /users/{m}/messages',
      body: JSON.stringify(bareMessage(plan)),
      contentType: 'application/json',
    },
    [201],
  );
  const id = (draft.json as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') {
    throw new BridgeError('GRAPH_UNAVAILABLE', {
      detail: 'draft created without an id in the answer',
      graph: { status: draft.status, ...(draft.requestId ? { requestId: draft.requestId } : {}) },
    });
  }
  const messagePath = `${user}/messages/${encodeURIComponent(id)}`;
  try {
    for (const a of plan.attachments) await addAttachment(ctx, messagePath, a);
  } catch (e) {
    await discardDraft(ctx, messagePath);
    throw e;
  }
  let sent: GraphAnswer;
  try {
    sent = expectStatus(
      await ctx.transport.call({
        method: 'POST',
        path: `${messagePath}/send`,
        route: 'POST /users/{m}/messages/{id}/send',
        body: '',
        contentType: 'application/json',
        sending: true,
        meter: ctx.meter,
      }),
      [202],
      { sending: true },
    );
  } catch (e) {
    // A definite refusal leaves the draft behind; an unknown outcome must not touch it (it may be in transit).
    if (e instanceof BridgeError && e.code !== 'GRAPH_OUTCOME_UNKNOWN') await discardDraft(ctx, messagePath);
    throw e;
  }
  return {
    path: 'draft',
    graphCalls: ctx.meter.graphCalls,
    bytesSent: ctx.meter.bytesSent,
    graphMessageId: id,
    ...(sent.requestId ? { requestId: sent.requestId } : {}),
  };
}

import type { TokenCredential } from '@azure/identity';

import type { TokenFacts } from '../../core/diagnostics';
import { BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { DeliveryPlan, SendReport } from '../delivery/delivery-plan';
import { sendAsDraft } from './draft-send';
import { base64Length, DEFAULT_MAX_REQUEST_BYTES, MAX_UPLOAD_CHUNK_BYTES } from './graph-limits';
import { mimeSendMailBody, sendMailJsonBody } from './graph-payload';
import { expectStatus, GraphTransport, type CallMeter } from './graph-transport';
import type { SlicedBody } from './sliced-body';
import { readToken } from './token-claims';
import { findInSentItems, type SentItemsAnswer } from './sent-items';
import type { ChunkRetryOptions } from './upload-session';

/**
 * Sends DeliveryPlans through Microsoft Graph, choosing the request shape from the real request size:
 * one sendMail (JSON, or MIME as base64 text/plain) up to `maxRequestBytes`, else draft + attachments +
 * upload sessions + send. Nothing that delivers mail is ever retried here: errors come back as BridgeErrors
 * and the caller (sync handler or queue consumer) decides about retries.
 */

export interface GraphMailerOptions {
  /** Graph root without version, https only (BRIDGE_GRAPH_ENDPOINT), e.g. https://graph.microsoft.com. */
  graphEndpoint: string;
  /** From credentialFor(tenantId) (functions/graph/credential.ts) or any TokenCredential. */
  credential: TokenCredential;
  logger: Logger;
  /** Largest single sendMail request; above it the draft path is used. Default 4,000,000. */
  maxRequestBytes?: number;
  /** Upload-session chunk size, at most 4 MiB (Outlook's limit). Default 4 MiB. */
  uploadChunkBytes?: number;
  /** Per HTTP request, including reading the answer. Default 60 s. */
  requestTimeoutMs?: number;
  /** Retries of a single upload chunk and of throttled draft steps. */
  chunkRetry?: ChunkRetryOptions;
  /** Token scope; default `{graphEndpoint origin}/.default`. */
  scope?: string;
}

export interface MailboxCheck {
  /** True only when Graph returned the user; false with `error` when it said no or could not tell. */
  exists: boolean;
  error?: BridgeError;
}

export interface GraphMailer {
  send(plan: DeliveryPlan): Promise<SendReport>;
  /** What the token of this mailer's credential says (roles, tenant, app, expiry). */
  tokenInfo(): Promise<TokenFacts>;
  checkMailbox(mailbox: string): Promise<MailboxCheck>;
  /** Looks for a submitted message in the mailbox's Sent Items (sent-items.ts); throws a BridgeError. */
  findSent(mailbox: string, internetMessageId: string): Promise<SentItemsAnswer>;
}

export function createGraphMailer(opts: GraphMailerOptions): GraphMailer {
  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const chunkBytes = opts.uploadChunkBytes ?? MAX_UPLOAD_CHUNK_BYTES;
  if (chunkBytes <= 0 || chunkBytes > MAX_UPLOAD_CHUNK_BYTES) {
    throw new BridgeError('CONFIG_INVALID', {
      detail: `uploadChunkBytes must be 1..${MAX_UPLOAD_CHUNK_BYTES} (Outlook accepts at most 4 MiB per upload PUT)`,
    });
  }
  const timeoutMs = opts.requestTimeoutMs ?? 60_000;
  const transport = new GraphTransport({
    graphEndpoint: opts.graphEndpoint,
    credential: opts.credential,
    requestTimeoutMs: timeoutMs,
    logger: opts.logger,
    ...(opts.scope ? { scope: opts.scope } : {}),
  });

  async function sendMail(
    plan: DeliveryPlan,
    body: SlicedBody,
    contentType: string,
    meter: CallMeter,
  ): Promise<SendReport> {
    const answer = await transport.call({
      method: 'POST',
      path: `/users/${encodeURIComponent(plan.mailbox)}/sendMail`,
      route: 'POST /users/{m}/sendMail',
      body,
      contentType,
      sending: true,
      meter,
    });
    expectStatus(answer, [202], { sending: true });
    return {
      path: 'sendMail',
      graphCalls: meter.graphCalls,
      bytesSent: meter.bytesSent,
      ...(answer.requestId ? { requestId: answer.requestId } : {}),
    };
  }

  async function send(plan: DeliveryPlan): Promise<SendReport> {
    const meter: CallMeter = { graphCalls: 0, bytesSent: 0 };
    if (plan.kind === 'mime') {
      if (!plan.mime) throw new BridgeError('INTERNAL', { detail: 'MIME delivery plan without MIME bytes' });
      const requestBytes = base64Length(plan.mime.length);
      if (requestBytes > maxRequestBytes) {
        throw new BridgeError('GRAPH_PAYLOAD_TOO_LARGE', {
          detail: `a signed or encrypted (S/MIME) message must go to Graph whole, as one MIME request; this one is ${plan.mime.length} bytes (${requestBytes} as base64) and Graph accepts about 4 MB per request, so S/MIME over about 3 MB cannot be sent through Graph`,
        });
      }
      return sendMail(plan, mimeSendMailBody(plan.mime), 'text/plain', meter);
    }
    if (!plan.message) throw new BridgeError('INTERNAL', { detail: 'JSON delivery plan without a message' });
    // Cheap to make: the attachments' base64 is only produced while the request is written.
    const body = sendMailJsonBody(plan);
    if (body.byteLength <= maxRequestBytes) return sendMail(plan, body, 'application/json', meter);
    return sendAsDraft(
      {
        transport,
        logger: opts.logger,
        chunkBytes,
        timeoutMs,
        meter,
        ...(opts.chunkRetry ? { chunkRetry: opts.chunkRetry } : {}),
      },
      plan,
    );
  }

  function tokenInfo(): Promise<TokenFacts> {
    return readToken(transport);
  }

  async function checkMailbox(mailbox: string): Promise<MailboxCheck> {
    try {
      const answer = await transport.call({
        method: 'GET',
        path: `/users/${encodeURIComponent(mailbox)}?$select=id,mail,userPrincipalName`,
        route: 'GET /users/{m}',
        sending: false,
        meter: { graphCalls: 0, bytesSent: 0 },
      });
      expectStatus(answer, [200]);
      return { exists: true };
    } catch (e) {
      return {
        exists: false,
        error: e instanceof BridgeError ? e : new BridgeError('INTERNAL', { cause: e }),
      };
    }
  }

  return {
    send,
    tokenInfo,
    checkMailbox,
    findSent: (mailbox, internetMessageId) => findInSentItems(transport, mailbox, internetMessageId),
  };
}

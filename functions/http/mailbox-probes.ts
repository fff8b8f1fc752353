import type { ProbeResult } from '../../core/diagnostics';
import { serializeBridgeError, toBridgeError } from '../../core/errors';
import { expectStatus, type GraphTransport } from '../graph/graph-transport';
import { findInSentItems } from '../graph/sent-items';

/**
 * The two Graph probes of the diagnostics route (core/diagnostics.ts). Neither can deliver mail:
 *   sendProbe  – sendMail WITHOUT recipients. Exchange checks the app's permission, the mailbox (exists,
 *                licensed) and the RBAC scope before the content, then refuses the empty message with
 *                400 ErrorInvalidRecipients: that refusal is the "may send" answer. (The order — access
 *                before content — is our assumption; Microsoft does not document it. An empty sendMail is
 *                known to get 400 ErrorInvalidRecipients.)
 *   draftProbe – creates an empty draft and deletes it: proves Mail.ReadWrite where the token does not carry
 *                it (Exchange RBAC for Applications).
 *   sentItemsProbe – the Sent Items look-up that resolves lost answers, for an internetMessageId that cannot
 *                exist: proves read access (Mail.ReadBasic or better) without reading any message.
 */
const PROBE_SUBJECT = 'smtp-graph-bridge doctor probe (never sent; safe to delete)';
const PROBE_BODY = {
  contentType: 'text',
  content: 'A permission probe of smtp-graph-bridge doctor. It has no recipients and is never sent.',
};

const meter = () => ({ graphCalls: 0, bytesSent: 0 });
const userPath = (mailbox: string) => `/users/${encodeURIComponent(mailbox)}`;

export async function sendProbe(transport: GraphTransport, mailbox: string): Promise<ProbeResult> {
  try {
    const answer = await transport.call({
      method: 'POST',
      path: `${userPath(mailbox)}/sendMail`,
      route: 'POST /users/{m}/sendMail',
      body: JSON.stringify({
        message: { subject: PROBE_SUBJECT, body: PROBE_BODY, toRecipients: [] },
        saveToSentItems: false,
      }),
      contentType: 'application/json',
      // Without recipients nothing can be delivered, so a lost answer is just unavailable, never "maybe sent".
      sending: false,
      meter: meter(),
    });
    if (answer.status === 202)
      return { ok: true, note: 'Graph accepted a message without recipients (nothing can be delivered)' };
    expectStatus(answer, []);
    return { ok: true };
  } catch (err) {
    const error = toBridgeError(err);
    // A 400 about the content means Exchange already let the app in: permission, mailbox and scope passed.
    if (
      error.graph?.status === 400 &&
      (error.code === 'GRAPH_INVALID_RECIPIENTS' || error.code === 'GRAPH_REJECTED')
    )
      return { ok: true };
    return { ok: false, error: serializeBridgeError(error) };
  }
}

export async function draftProbe(transport: GraphTransport, mailbox: string): Promise<ProbeResult> {
  let id: string;
  try {
    const created = await transport.call({
      method: 'POST',
      path: `${userPath(mailbox)}/messages`,
      route: 'POST /users/{m}/messages',
      body: JSON.stringify({ subject: PROBE_SUBJECT, body: PROBE_BODY }),
      contentType: 'application/json',
      sending: false,
      meter: meter(),
    });
    expectStatus(created, [201]);
    id = String((created.json as { id?: unknown } | undefined)?.id ?? '');
  } catch (err) {
    return { ok: false, error: serializeBridgeError(toBridgeError(err)) };
  }
  try {
    const deleted = await transport.call({
      method: 'DELETE',
      path: `${userPath(mailbox)}/messages/${encodeURIComponent(id)}`,
      route: 'DELETE /users/{m}/messages/{id}',
      sending: false,
      meter: meter(),
    });
    expectStatus(deleted, [204]);
    return { ok: true };
  } catch {
    return {
      ok: true,
      note: `the empty probe draft "${PROBE_SUBJECT}" could not be deleted; delete it by hand`,
    };
  }
}

export async function sentItemsProbe(transport: GraphTransport, mailbox: string): Promise<ProbeResult> {
  try {
    await findInSentItems(transport, mailbox, '<doctor-probe.never-sent@smtp-graph-bridge.invalid>');
    return { ok: true };
  } catch (err) {
    return { ok: false, error: serializeBridgeError(toBridgeError(err)) };
  }
}

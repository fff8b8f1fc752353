import { odataString } from '../mime/internet-message-id';
import { expectStatus, type GraphTransport } from './graph-transport';

/**
 * The Sent Items look-up that resolves a lost answer (docs/design/platform-facts.md §F, docs/design/custody.md): the copy
 * Exchange saves after sending carries the internetMessageId the bridge submitted.
 *
 * It asks the Sent Items folder, not /messages: a draft whose /send answer was lost stays in Drafts with the
 * same internetMessageId if it was never sent, and must not count as sent (drafts are also filtered out by
 * isDraft, in case a folder is moved). Needs Mail.ReadBasic (or Mail.Read / Mail.ReadWrite) for the mailbox;
 * a refusal comes back as the classified BridgeError (403 → GRAPH_ACCESS_DENIED).
 */
export interface SentItemsAnswer {
  found: boolean;
  /** Graph's id of the Sent Items copy. */
  graphMessageId?: string;
  requestId?: string;
}

export async function findInSentItems(
  transport: GraphTransport,
  mailbox: string,
  internetMessageId: string,
): Promise<SentItemsAnswer> {
  const filter = encodeURIComponent(`internetMessageId eq ${odataString(internetMessageId)}`);
  const answer = expectStatus(
    await transport.call({
      method: 'GET',
      path: `/users/${encodeURIComponent(mailbox)}/mailFolders/sentitems/messages?$filter=${filter}&$select=id,internetMessageId,isDraft&$top=5`,
      route: 'GET /users/{m}/mailFolders/sentitems/messages',
      sending: false,
      meter: { graphCalls: 0, bytesSent: 0 },
    }),
    [200],
  );
  const value = (answer.json as { value?: unknown } | undefined)?.value;
  const hit = (Array.isArray(value) ? (value as Array<Record<string, unknown>>) : []).find(
    (m) => m.internetMessageId === internetMessageId && m.isDraft !== true,
  );
  const out: SentItemsAnswer = { found: hit !== undefined };
  if (hit && typeof hit.id === 'string') out.graphMessageId = hit.id;
  if (answer.requestId) out.requestId = answer.requestId;
  return out;
}

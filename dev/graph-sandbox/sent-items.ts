import { randomBytes } from 'node:crypto';

/**
 * The Sent Items folder as far as the bridge's look-up needs it (docs/design/platform-facts.md §F): every message the
 * sandbox sent with saveToSentItems, by mailbox and internetMessageId, visible only `lagMs` after it was
 * sent — Exchange saves the copy a few seconds after accepting. Kept apart from the bounded message store,
 * so a look-up finds a message however many were sent since (an entry is a few dozen bytes).
 */
export interface SentItem {
  /** Graph id of the Sent Items copy. */
  id: string;
  mailbox: string;
  internetMessageId: string;
  sentDateTime: string;
  /** Epoch ms from which a look-up sees it. */
  visibleAtMs: number;
}

export class SentItems {
  readonly #items = new Map<string, SentItem[]>();
  readonly #lagMs: number;

  constructor(lagMs: number) {
    this.#lagMs = lagMs;
  }

  /** Files the sent copy; a message without an id gets one the way Exchange stamps it. */
  add(mailbox: string, internetMessageId: string | undefined, nowMs = Date.now()): SentItem {
    const item: SentItem = {
      id: `AAMkSent${randomBytes(18).toString('base64url')}`,
      mailbox: mailbox.toLowerCase(),
      internetMessageId: internetMessageId ?? `<${randomBytes(12).toString('hex')}@sandbox.exchange>`,
      sentDateTime: new Date(nowMs).toISOString(),
      visibleAtMs: nowMs + this.#lagMs,
    };
    const key = SentItems.#key(item.mailbox, item.internetMessageId);
    this.#items.set(key, [...(this.#items.get(key) ?? []), item]);
    return item;
  }

  /** What a $filter=internetMessageId eq '…' look-up in this mailbox sees now. */
  find(mailbox: string, internetMessageId: string, nowMs = Date.now()): SentItem[] {
    return (this.#items.get(SentItems.#key(mailbox.toLowerCase(), internetMessageId)) ?? []).filter(
      (i) => i.visibleAtMs <= nowMs,
    );
  }

  /** How many copies of one internetMessageId were sent, visible or not (tests count duplicates with it). */
  count(mailbox: string, internetMessageId: string): number {
    return this.#items.get(SentItems.#key(mailbox.toLowerCase(), internetMessageId))?.length ?? 0;
  }

  clear(): void {
    this.#items.clear();
  }

  static #key(mailbox: string, internetMessageId: string): string {
    return `${mailbox}\n${internetMessageId}`;
  }
}

/** The Message-ID of a MIME submission (its header block only), as Exchange keeps it. */
export function mimeMessageId(mime: Buffer): string | undefined {
  const end = mime.indexOf('\r\n\r\n');
  const head = mime.subarray(0, end < 0 ? Math.min(mime.length, 256 * 1024) : end).toString('latin1');
  return /^Message-ID:[ \t]*(<[^>\r\n]+>)/im.exec(head.replace(/\r?\n[ \t]+/g, ' '))?.[1];
}

/** The one $filter the look-up uses: `internetMessageId eq '<id>'` (OData doubles a quote inside). */
export function internetMessageIdFilter(filter: string | null): string | undefined {
  const m = /^\s*internetMessageId\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter ?? '');
  return m?.[1]?.replaceAll("''", "'");
}

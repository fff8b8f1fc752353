import { addressKey } from '../../core/envelope';
import { MAX_DISPLAY_NAME_LENGTH, truncateText, type Mailbox } from './address';
import type { SenderChoice } from './sender-policy';

export interface SenderHeaders {
  /** The From the recipients see. */
  from: Mailbox;
  /** Where replies go; empty means "to From" (no Reply-To). */
  replyTo: Mailbox[];
}

/**
 * From and Reply-To for the message Graph sends.
 *
 * Allowed sender: From is the sending mailbox with the display name the device gave; the message's own Reply-To
 * is kept.
 * Rewritten sender: From is the default mailbox, named after the original sender in the "Alice via Group"
 * style that mailing lists made familiar — `Scanner HQ (scanner@site.example) via bridge`, or
 * `scanner@site.example via bridge` without a name — so recipients see who really sent it. Replies go to the
 * message's own Reply-To if it has one (its author chose that), else to the original sender; never to the
 * shared default mailbox.
 */
export function senderHeaders(
  sender: SenderChoice,
  headerFrom: readonly Mailbox[],
  headerReplyTo: readonly Mailbox[],
): SenderHeaders {
  const nameOf = (address: string): string | undefined =>
    headerFrom.find((m) => addressKey(m.address) === addressKey(address))?.name;

  if (!sender.senderRewritten) {
    const name = nameOf(sender.mailbox);
    return {
      from: name === undefined ? { address: sender.mailbox } : { address: sender.mailbox, name },
      replyTo: [...headerReplyTo],
    };
  }
  const original = sender.originalSender;
  if (original === undefined) return { from: { address: sender.mailbox }, replyTo: [...headerReplyTo] };
  const originalName = nameOf(original);
  const label =
    originalName === undefined ? `${original} via bridge` : `${originalName} (${original}) via bridge`;
  const originalMailbox: Mailbox =
    originalName === undefined ? { address: original } : { address: original, name: originalName };
  return {
    from: { address: sender.mailbox, name: truncateText(label, MAX_DISPLAY_NAME_LENGTH) },
    replyTo: headerReplyTo.length > 0 ? [...headerReplyTo] : [originalMailbox],
  };
}

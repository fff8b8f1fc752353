import type { Envelope } from '../../core/envelope';

/**
 * The internetMessageId every submission carries, made from the bridge's own id, never the device's
 * Message-ID (decision and reasons: docs/design/custody.md "One id to look for").
 *
 * It is the key of the Sent Items lookup that resolves a lost Graph answer, so it must be unique per
 * submission and the same on every attempt of that submission: `<submission id>.<site>@<sender domain>`.
 * The submission id is the edge's spool id (or `<spoolId>.r<n>` for an admin resubmission), unique per site;
 * the site makes it unique across sites; the sending mailbox's domain keeps it a valid RFC 5322 msg-id
 * (`id-left@id-right`, both dot-atoms: MESSAGE_ID_PATTERN and SITE_ID_PATTERN allow only letters, digits,
 * '.', '_' and '-') in a domain the tenant owns. No quote can occur, so it is safe inside an OData
 * string literal.
 */
export function bridgeInternetMessageId(
  envelope: Pick<Envelope, 'messageId' | 'siteId'>,
  mailbox: string,
): string {
  const domain = mailbox.slice(mailbox.lastIndexOf('@') + 1).toLowerCase() || 'smtp-graph-bridge.invalid';
  return `<${envelope.messageId}.${envelope.siteId}@${domain}>`;
}

/** An OData string literal for $filter (a quote is doubled, OData ABNF SQUOTE-in-string). */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

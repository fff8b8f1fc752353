import { domainToASCII } from 'node:url';

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * An address as it goes into the envelope. smtp-server hands over domains converted to Unicode (U-labels,
 * even when the client sent `xn--` A-labels), so the domain goes back to its ASCII form here: the same
 * mailbox either way, and the form every hop accepts. An IP literal (`[192.0.2.1]`) stays as it is.
 */
export function envelopeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address; // the null sender, or RCPT TO:<postmaster>
  const domain = address.slice(at + 1);
  if (domain.startsWith('[') || !NON_ASCII.test(domain)) return address;
  const ascii = domainToASCII(domain);
  return ascii ? `${address.slice(0, at)}@${ascii}` : address;
}

/**
 * RFC 6531 §3.4: a non-ASCII local part needs SMTPUTF8 on MAIL FROM. (A non-ASCII domain cannot be judged:
 * smtp-server already turned A-labels into Unicode, and both forms name the same domain.)
 */
export function needsSmtpUtf8(address: string): boolean {
  const at = address.lastIndexOf('@');
  return NON_ASCII.test(at < 0 ? address : address.slice(0, at));
}

/**
 * Every address in the From header(s) of a message's header block, for the device binding check at the end of
 * DATA. Deliberately wide: an address anywhere in any From header counts (all must be allowed), so a header
 * crafted to look like one sender to this parser and another to the function's (mailparser) is refused here
 * or, failing that, by the function's own check of the same binding (functions/mime/sender-policy.ts).
 */
export const MAX_HEADER_BYTES = 64 * 1024;

export function headerFromAddresses(head: Buffer): string[] {
  // latin1 keeps every byte; addresses are ASCII or UTF-8 (RFC 6532), compared after decoding below.
  const text = head.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const out: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    const m = /^from[ \t]*:(.*)$/i.exec(line);
    if (!m) continue;
    const value = Buffer.from(m[1] ?? '', 'latin1').toString('utf8');
    for (const a of value.matchAll(/[^\s<>,;:"()[\]\\]+@[^\s<>,;:"()[\]\\]+/g))
      out.push(a[0].replace(/\.$/, ''));
  }
  return [...new Set(out)];
}

import type { BridgeErrorCode } from '../../core/errors';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

type LineBreak = 'crlf' | 'bareLf' | 'bareCr';

/**
 * Watches message data (after smtp-server's dot-unstuffing) for the ambiguous line endings of SMTP smuggling
 * (SEC Consult 2023; CVE-2023-51764/51765/51766), with mox's rules (smtp/data.go):
 *
 *   - a bare CR anywhere is refused (BARE_CR) — relays may treat it as a line break;
 *   - a line holding only a dot whose line ending before or after is not CRLF — `\n.\n`, `\n.\r\n`,
 *     `\r\n.\n`, `\r.\r`, `.\n` at the very start — is refused (SUSPECTED_SMUGGLING), and so is any bare CR
 *     next to a dot;
 *   - bare LF elsewhere is accepted: scanners and fax gateways send it, and the function's MIME parser
 *     handles it.
 *
 * smtp-server itself only ends DATA on CRLF.CRLF, so nothing can split one message into two here; the check
 * stops this listener from passing such a message to a hop that might. The whole message is always read
 * (the protocol must stay in sync) and judged at the end.
 */
export class DataGuard {
  /** What ended the previous line, when the scan is at the start of a line. DATA begins after a CRLF. */
  #lineStart: LineBreak | undefined = 'crlf';
  #crPending = false;
  #last = LF;
  #byteBeforeCr = 0;
  #dotPending = false;
  #dotBreak: LineBreak = 'crlf';
  #crAfterLineDot = false;
  #violation: BridgeErrorCode | undefined;

  get violation(): BridgeErrorCode | undefined {
    return this.#violation;
  }

  push(chunk: Uint8Array): void {
    if (this.#violation === 'SUSPECTED_SMUGGLING') return; // the worst verdict is known; skip the work
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = bytes.length;
    // Only CR, LF and the byte after a line break matter; the rest is skipped with native indexOf. The next
    // CR and LF positions are remembered, so a chunk without any CR (bare-LF data) is scanned once, not per line.
    let nextCr = -2;
    let nextLf = -2;
    for (let i = 0; i < n;) {
      if (!this.#crPending && !this.#dotPending && this.#lineStart === undefined) {
        if (nextCr !== -1 && nextCr < i) nextCr = bytes.indexOf(CR, i);
        if (nextLf !== -1 && nextLf < i) nextLf = bytes.indexOf(LF, i);
        const next = nextCr < 0 ? nextLf : nextLf < 0 ? nextCr : Math.min(nextCr, nextLf);
        if (next < 0) {
          this.#last = bytes[n - 1]!;
          return;
        }
        if (next > i) {
          this.#last = bytes[next - 1]!;
          i = next;
        }
      }
      const c = bytes[i]!;
      this.#byte(c);
      this.#last = c;
      i++;
    }
  }

  /** The verdict once the data has ended. */
  finish(): BridgeErrorCode | undefined {
    if (this.#crPending)
      this.#flag(this.#crAfterLineDot || this.#byteBeforeCr === DOT ? 'SUSPECTED_SMUGGLING' : 'BARE_CR');
    this.#crPending = false;
    return this.#violation;
  }

  #byte(c: number): void {
    if (this.#crPending) {
      this.#crPending = false;
      if (c === LF) {
        if (this.#crAfterLineDot && this.#dotBreak !== 'crlf') this.#flag('SUSPECTED_SMUGGLING');
        this.#crAfterLineDot = false;
        this.#lineStart = 'crlf';
        return;
      }
      const nearDot = this.#crAfterLineDot || this.#byteBeforeCr === DOT || c === DOT;
      this.#flag(nearDot ? 'SUSPECTED_SMUGGLING' : 'BARE_CR');
      this.#crAfterLineDot = false;
      this.#lineStart = 'bareCr';
      // c itself still has to be looked at below
    }
    if (this.#dotPending) {
      this.#dotPending = false;
      if (c === LF) {
        this.#flag('SUSPECTED_SMUGGLING');
        this.#lineStart = 'bareLf';
        return;
      }
      if (c === CR) {
        this.#crPending = true;
        this.#crAfterLineDot = true;
        this.#byteBeforeCr = this.#last;
        this.#lineStart = undefined;
        return;
      }
    }
    if (c === CR) {
      this.#crPending = true;
      this.#byteBeforeCr = this.#last;
      return;
    }
    if (c === LF) {
      this.#lineStart = 'bareLf';
      return;
    }
    if (c === DOT && this.#lineStart !== undefined) {
      this.#dotPending = true;
      this.#dotBreak = this.#lineStart;
    }
    this.#lineStart = undefined;
  }

  #flag(code: BridgeErrorCode): void {
    if (this.#violation !== 'SUSPECTED_SMUGGLING') this.#violation = code;
  }
}

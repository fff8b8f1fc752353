/**
 * Per-address limits of the SMTP intake: concurrent connections, and failed AUTH attempts within a window
 * (a device with a wrong stored password retries forever; a LAN PC guessing passwords should be slowed).
 * In memory on purpose: a restart forgetting a lockout is harmless.
 */
export interface ClientLimitOptions {
  maxConnectionsPerIp: number;
  maxAuthFailuresPerIp: number;
  authFailureWindowMs: number;
}

const MAX_TRACKED_ADDRESSES = 10_000;

export class ClientLimits {
  readonly #o: ClientLimitOptions;
  readonly #connections = new Map<string, number>();
  readonly #failures = new Map<string, number[]>();

  constructor(options: ClientLimitOptions) {
    this.#o = options;
  }

  /** Counts a new connection; false (and not counted) when the address is at its limit. */
  opened(ip: string): boolean {
    const n = this.#connections.get(ip) ?? 0;
    if (n >= this.#o.maxConnectionsPerIp) return false;
    this.#connections.set(ip, n + 1);
    return true;
  }

  closed(ip: string): void {
    const n = (this.#connections.get(ip) ?? 0) - 1;
    if (n > 0) this.#connections.set(ip, n);
    else this.#connections.delete(ip);
  }

  /** Connections currently counted (all addresses). */
  get activeConnections(): number {
    let total = 0;
    for (const n of this.#connections.values()) total += n;
    return total;
  }

  /** True while the address has used up its failed AUTH attempts in the window. */
  authLocked(ip: string, now = Date.now()): boolean {
    return this.#recent(ip, now).length >= this.#o.maxAuthFailuresPerIp;
  }

  /** Records a failed AUTH; returns true when the address is now locked. */
  authFailed(ip: string, now = Date.now()): boolean {
    const list = this.#recent(ip, now);
    list.push(now);
    this.#failures.set(ip, list);
    if (this.#failures.size > MAX_TRACKED_ADDRESSES) this.#sweep(now);
    return list.length >= this.#o.maxAuthFailuresPerIp;
  }

  #recent(ip: string, now: number): number[] {
    const cutoff = now - this.#o.authFailureWindowMs;
    const list = (this.#failures.get(ip) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.#failures.delete(ip);
    return list;
  }

  #sweep(now: number): void {
    for (const ip of [...this.#failures.keys()]) this.#recent(ip, now);
  }
}

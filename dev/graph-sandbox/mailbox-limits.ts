import type { SandboxThrottleCounts } from './options';

/**
 * Exchange Online's per-mailbox limits as the sandbox enforces them (docs/design/platform-facts.md §A3):
 * 4 concurrent requests per app and mailbox (MailboxSlots in fault-queue.ts) and 30 messages a minute per
 * mailbox (this window). Every throttling answer is counted, so a benchmark can say how often the bridge
 * let Graph throttle it.
 *
 * The message rate is a sliding minute of accepted submissions (sendMail, or /send of a draft): a
 * submission is refused with 429 while the last 60 s already hold `perMinute` of them, with a Retry-After
 * until the oldest leaves the window. (Real Exchange is documented to carry excess submissions over to the
 * following minutes for some protocols rather than refuse them; refusing is the stricter model, and a
 * bridge that never meets a 429 here never overruns Exchange either.)
 */
export const RATE_WINDOW_MS = 60_000;

export class MailboxRateWindow {
  readonly #sent = new Map<string, number[]>();

  constructor(
    readonly perMinute: number,
    readonly nowMs: () => number = Date.now,
  ) {}

  /** Undefined when a submission may go now, else the seconds until one may (at least 1). */
  retryAfterSec(mailbox: string): number | undefined {
    const times = this.#live(mailbox);
    if (times.length < this.perMinute) return undefined;
    const oldest = times[times.length - this.perMinute] ?? this.nowMs();
    return Math.max(1, Math.ceil((oldest + RATE_WINDOW_MS - this.nowMs()) / 1000));
  }

  /** Counts an accepted submission. */
  record(mailbox: string): void {
    const times = this.#live(mailbox);
    times.push(this.nowMs());
    this.#sent.set(mailbox.toLowerCase(), times);
  }

  clear(): void {
    this.#sent.clear();
  }

  #live(mailbox: string): number[] {
    const since = this.nowMs() - RATE_WINDOW_MS;
    return (this.#sent.get(mailbox.toLowerCase()) ?? []).filter((t) => t > since);
  }
}

/** Throttling answers given, by limit; never trimmed (the request log is). */
export class ThrottleCounter {
  #counts: SandboxThrottleCounts = { concurrency: 0, rate: 0, total: 0 };

  add(kind: 'concurrency' | 'rate'): void {
    this.#counts = { ...this.#counts, [kind]: this.#counts[kind] + 1, total: this.#counts.total + 1 };
  }

  get(): SandboxThrottleCounts {
    return { ...this.#counts };
  }

  clear(): void {
    this.#counts = { concurrency: 0, rate: 0, total: 0 };
  }
}

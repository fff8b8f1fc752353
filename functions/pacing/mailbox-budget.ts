/**
 * The per-mailbox sending budget as plain data and pure rules (the storage side is mailbox-pacer.ts).
 *
 * Exchange Online allows a mailbox 4 concurrent requests per app and 30 messages a minute
 * (docs/design/platform-facts.md §A3). Concurrency is a set of leases that expire, so a crashed instance frees its slot by
 * itself. The rate is a sliding one-minute log of sends rather than a token bucket: a bucket that starts
 * full lets twice the limit through in the first minute, the log never does.
 *
 * Each send is logged at its grant and moved to its end when its lease is released (`releaseLease` with the
 * grant time). Exchange counts a message when its request arrives, somewhere between our grant and the
 * answer; counting from the grant let a slow first request (token, TLS handshake, a loaded machine) land
 * inside the minute of a fast 31st and draw a 429. Counted from the end, a send holds its place for a whole
 * minute after Exchange could have counted it. Caveats: a send still in flight more than a minute after its
 * grant (a large upload) has left the log until it ends; a lease that is never released (crash, storage
 * failure) keeps its grant time. Both can only matter at a window's edge, and a 429 is then retried after its
 * Retry-After like any other (docs/design/platform-facts.md §A3).
 */
export interface MailboxBudget {
  /** Lease id → expiry (epoch ms). */
  leases: Record<string, number>;
  /** Times (epoch ms) of the sends in the last minute, oldest first: a running send's grant, a finished one's end. */
  startsMs: number[];
}

export interface MailboxLimits {
  concurrency: number;
  perMinute: number;
}

export const WINDOW_MS = 60_000;

export type TakeResult =
  | { granted: true; next: MailboxBudget }
  | { granted: false; retryAfterMs: number; reason: 'concurrency' | 'rate' };

export function emptyBudget(): MailboxBudget {
  return { leases: {}, startsMs: [] };
}

/** Drops expired leases and starts older than the window. */
export function prune(budget: MailboxBudget, nowMs: number): MailboxBudget {
  const leases: Record<string, number> = {};
  for (const [id, expiresMs] of Object.entries(budget.leases)) if (expiresMs > nowMs) leases[id] = expiresMs;
  return { leases, startsMs: budget.startsMs.filter((t) => t > nowMs - WINDOW_MS) };
}

export function tryTake(
  budget: MailboxBudget,
  limits: MailboxLimits,
  nowMs: number,
  leaseId: string,
  leaseMs: number,
): TakeResult {
  const b = prune(budget, nowMs);
  const active = Object.values(b.leases);
  if (active.length >= limits.concurrency) {
    // Unknown when a running send ends; its lease expiry is only the upper bound. Ask again soon.
    return {
      granted: false,
      reason: 'concurrency',
      retryAfterMs: Math.max(1, Math.min(1000, Math.min(...active) - nowMs)),
    };
  }
  if (b.startsMs.length >= limits.perMinute) {
    const oldestInWindow = b.startsMs[b.startsMs.length - limits.perMinute] ?? nowMs;
    return { granted: false, reason: 'rate', retryAfterMs: Math.max(1, oldestInWindow + WINDOW_MS - nowMs) };
  }
  return {
    granted: true,
    next: { leases: { ...b.leases, [leaseId]: nowMs + leaseMs }, startsMs: [...b.startsMs, nowMs] },
  };
}

/**
 * Frees the lease's slot. With `grantedMs` (the time its tryTake logged) the send moves in the rate log from
 * its grant to now, its end; without it the log is left as it is.
 */
export function releaseLease(
  budget: MailboxBudget,
  leaseId: string,
  nowMs: number,
  grantedMs?: number,
): MailboxBudget {
  const b = prune(budget, nowMs);
  const leases = { ...b.leases };
  delete leases[leaseId];
  if (grantedMs === undefined) return { leases, startsMs: b.startsMs };
  const startsMs = [...b.startsMs];
  const at = startsMs.indexOf(grantedMs);
  if (at >= 0) startsMs.splice(at, 1);
  // Still counted if it already left the window: it ran for over a minute, Exchange may have counted it late.
  startsMs.push(nowMs);
  startsMs.sort((x, y) => x - y);
  return { leases, startsMs };
}

/** Extends a lease still held; a lease that already expired is not revived (its slot may be taken). */
export function renewLease(
  budget: MailboxBudget,
  leaseId: string,
  nowMs: number,
  leaseMs: number,
): MailboxBudget {
  const b = prune(budget, nowMs);
  if (!(leaseId in b.leases)) return b;
  return { leases: { ...b.leases, [leaseId]: nowMs + leaseMs }, startsMs: b.startsMs };
}

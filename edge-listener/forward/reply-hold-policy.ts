import { addressKey } from '../../core/envelope';

/**
 * Whether the SMTP reply to a committed message waits for the function's first answer ("held") or goes out
 * at once ("commit": the message is durably in the spool, forwarding continues behind the reply with the
 * same custody). Holding is worth its cost — intake at the function's pace — only while the answer can still
 * change what the device is told (docs/design/reply-hold.md):
 *
 *   hold   the route (device + sender) is new, or its last answer was a rejection;
 *   commit the route's last answer was a success (sent, or queued by the function) within `trustMs`,
 *          the function is pacing the sending mailbox (it answered 202 queued for it within `trustMs`),
 *          or `backlog` forwards are already in flight (a new one would wait for a slot past the budget).
 *
 * A route is the client address, the AUTH user, the envelope sender and the From header's addresses: the
 * mailbox that sends is From (else MAIL FROM), so a copier that keeps one MAIL FROM for every user still gets
 * each user's missing mailbox on its panel the first time. Routes and paced mailboxes live in bounded
 * LRU maps (MAX_ROUTES) with a time limit, so many senders cannot grow memory.
 */
export type ReplyHoldMode = 'adaptive' | 'always' | 'never';

export type HoldReason =
  /** adaptive: no answer known for this route (new, expired, or forgotten by the LRU). */
  | 'route-new'
  /** adaptive: the route's last answer was a rejection; its next message shows the next one on the panel. */
  | 'route-failed'
  /** BRIDGE_REPLY_HOLD=always. */
  | 'always'
  /** adaptive: the route's last answer was a success within the trust time. */
  | 'route-proven'
  /** adaptive: the function answered 202 queued for this sending mailbox within the trust time. */
  | 'mailbox-paced'
  /** adaptive: forwards in flight reached the backlog threshold. */
  | 'backlog'
  /** BRIDGE_REPLY_HOLD=never, or BRIDGE_FORWARD_BUDGET_MS=0. */
  | 'never';

export const HOLD_REASONS: readonly HoldReason[] = [
  'route-new',
  'route-failed',
  'always',
  'route-proven',
  'mailbox-paced',
  'backlog',
  'never',
];

export interface HoldDecision {
  hold: boolean;
  reason: HoldReason;
}

/** Who sends, as the SMTP session knows it. */
export interface Route {
  clientAddress: string;
  authUser?: string | undefined;
  mailFrom: string;
  /** Addresses of the From header(s), when read (empty: MAIL FROM is the sender). */
  headerFrom?: readonly string[];
}

/** What the forwarder learned about a message (the `outcome` event's kinds). */
export type LearnedOutcome = 'sent' | 'queued' | 'deferred' | 'rejected' | 'failed';

export interface ReplyHoldOptions {
  mode: ReplyHoldMode;
  /** BRIDGE_FORWARD_BUDGET_MS: 0 means never hold, whatever the mode. */
  budgetMs: number;
  /** How long a success (or a 202 for the mailbox) lets later messages be answered at commit. */
  trustMs: number;
  /** Forwards in flight (or waiting for a POST slot) from which replies go at commit. */
  backlog: number;
  maxRoutes?: number;
  now?: () => number;
}

/** Routes (and paced mailboxes, and messages awaiting their outcome) remembered at most. */
export const MAX_ROUTES = 10_000;

type RouteState = { ok: boolean; at: number };

export class ReplyHoldPolicy {
  readonly #o: Required<ReplyHoldOptions>;
  /** route key → its last definite answer. */
  readonly #routes: BoundedMap<RouteState>;
  /** sending mailbox → when the function last answered 202 queued for it. */
  readonly #paced: BoundedMap<number>;
  /** spool id → route key and mailbox, until its final outcome (outcome events carry only the id). */
  readonly #pending: BoundedMap<{ route: string; mailbox: string }>;

  constructor(options: ReplyHoldOptions) {
    this.#o = { maxRoutes: MAX_ROUTES, now: Date.now, ...options };
    this.#routes = new BoundedMap(this.#o.maxRoutes);
    this.#paced = new BoundedMap(this.#o.maxRoutes);
    this.#pending = new BoundedMap(this.#o.maxRoutes);
  }

  /** True when the decision needs the From header (adaptive mode only): the caller then reads it. */
  get wantsHeaderFrom(): boolean {
    return this.#o.mode === 'adaptive' && this.#o.budgetMs > 0;
  }

  /** Routes remembered now (for tests and the bound). */
  get size(): { routes: number; paced: number; pending: number } {
    return { routes: this.#routes.size, paced: this.#paced.size, pending: this.#pending.size };
  }

  /**
   * The decision for message `id`, just committed on `route`, with `inFlight` forwards running or waiting.
   * The id is remembered so its outcome (learn) updates this route.
   */
  decide(id: string, route: Route, inFlight: number): HoldDecision {
    const { mode, budgetMs } = this.#o;
    if (mode === 'never' || budgetMs <= 0) return { hold: false, reason: 'never' };
    if (mode === 'always') return { hold: true, reason: 'always' };
    const now = this.#o.now();
    const key = routeKey(route);
    const mailbox = mailboxOf(route);
    this.#pending.set(id, { route: key, mailbox });
    const state = this.#fresh(this.#routes, key, now, (s) => s.at);
    if (state && !state.ok) return { hold: true, reason: 'route-failed' };
    if (state?.ok) return { hold: false, reason: 'route-proven' };
    if (this.#fresh(this.#paced, mailbox, now, (at) => at) !== undefined)
      return { hold: false, reason: 'mailbox-paced' };
    if (inFlight >= this.#o.backlog) return { hold: false, reason: 'backlog' };
    return { hold: true, reason: 'route-new' };
  }

  /**
   * An answer for message `id`: sent / queued prove its route, a rejection (told to the device or kept
   * failed) makes the route held again. Deferrals (no answer, 5xx, 429) say nothing about the route, and
   * MESSAGE_EXPIRED is the edge's own verdict on reachability, not the function's on the route.
   */
  learn(id: string, kind: LearnedOutcome, code?: string): void {
    const p = this.#pending.get(id);
    if (!p || kind === 'deferred') return;
    if (kind === 'queued') {
      this.#pending.touch(id); // the cloud may still fail it
      this.#paced.set(p.mailbox, this.#o.now());
    } else this.#pending.delete(id);
    if (kind === 'failed' && code === 'MESSAGE_EXPIRED') return;
    this.#routes.set(p.route, { ok: kind === 'sent' || kind === 'queued', at: this.#o.now() });
  }

  /** The value when it is younger than the trust time; an older one is dropped. */
  #fresh<T>(map: BoundedMap<T>, key: string, now: number, at: (v: T) => number): T | undefined {
    const v = map.get(key);
    if (v === undefined) return undefined;
    if (now - at(v) < this.#o.trustMs) return v;
    map.delete(key);
    return undefined;
  }
}

/** Case-insensitive as Exchange is (core/envelope.ts addressKey); From addresses sorted, so order does not matter. */
export function routeKey(r: Route): string {
  const from = [...new Set((r.headerFrom ?? []).map(addressKey))].sort().join(',');
  return [r.clientAddress, (r.authUser ?? '').toLowerCase(), addressKey(r.mailFrom), from].join('\n');
}

/** The mailbox that sends: the From address, else MAIL FROM (as functions/mime/sender-policy.ts chooses). */
function mailboxOf(r: Route): string {
  const from = r.headerFrom?.[0];
  return from ? addressKey(from) : addressKey(r.mailFrom);
}

/** A Map in least-recently-set order that forgets its oldest entry beyond `max`. */
class BoundedMap<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }

  touch(key: string): void {
    const v = this.#map.get(key);
    if (v !== undefined) this.set(key, v);
  }

  delete(key: string): void {
    this.#map.delete(key);
  }
}

import { WIRE_PATH } from '../../core/wire';
import type { HttpAnswer } from '../doctor/function-requests';

/**
 * What the function says about a message now (signed GET /api/v1/messages/{id}, core/wire.ts): the edge
 * only knows "handed over"; a message the function queued may since have been sent or failed in the cloud.
 *
 * The page polls every second, so answers are cached and refreshed in the background: final states (sent,
 * failed) are kept, others re-read every few seconds, failures retried later. `view` never waits for the
 * network — the first view of an id says `checking`, the next ones the answer.
 */
export type CloudView =
  | {
      kind: 'state';
      state: string;
      sender?: string;
      graphRequestId?: string;
      error?: { code: string; message: string; hint?: string };
      updatedAt?: string;
      checkedAt: string;
    }
  | { kind: 'unavailable'; reason: string; checkedAt: string }
  | { kind: 'checking' };

export type StateFetcher = (path: string, messageId: string) => Promise<HttpAnswer>;

export interface CloudStateOptions {
  /** Re-read of a non-final state. Default 5 s. */
  refreshMs?: number;
  /** Next try after a failed read. Default 15 s. */
  retryMs?: number;
  /** Reads at the same time. Default 4. */
  concurrency?: number;
  /** Ids remembered. Default 1000. */
  maxEntries?: number;
  now?: () => number;
}

const FINAL_STATES = new Set(['sent', 'failed']);

interface CacheEntry {
  view: CloudView;
  /** When a new read may start (Infinity: final). */
  staleAtMs: number;
}

export class CloudStateReader {
  readonly #fetch: StateFetcher;
  readonly #o: Required<Omit<CloudStateOptions, 'now'>>;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #reading = new Set<string>();

  constructor(fetch: StateFetcher, options: CloudStateOptions = {}) {
    this.#fetch = fetch;
    this.#o = { refreshMs: 5_000, retryMs: 15_000, concurrency: 4, maxEntries: 1000, ...options };
    this.#now = options.now ?? Date.now;
  }

  view(id: string): CloudView {
    const entry = this.#cache.get(id);
    if (
      (!entry || entry.staleAtMs <= this.#now()) &&
      !this.#reading.has(id) &&
      this.#reading.size < this.#o.concurrency
    ) {
      this.#reading.add(id);
      void this.#read(id).finally(() => this.#reading.delete(id));
    }
    return entry?.view ?? { kind: 'checking' };
  }

  /** Resolves when no read is running (tests). */
  async settled(): Promise<void> {
    while (this.#reading.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  async #read(id: string): Promise<void> {
    const checkedAt = new Date(this.#now()).toISOString();
    let view: CloudView;
    try {
      view = toView(await this.#fetch(`${WIRE_PATH}/${encodeURIComponent(id)}`, id), checkedAt);
    } catch (e) {
      view = {
        kind: 'unavailable',
        reason: `the function did not answer (${(e as { code?: string }).code ?? (e as Error).message})`,
        checkedAt,
      };
    }
    const final = view.kind === 'state' && FINAL_STATES.has(view.state);
    const wait = view.kind === 'state' ? this.#o.refreshMs : this.#o.retryMs;
    this.#cache.delete(id); // re-insert: Map order is the eviction order
    this.#cache.set(id, { view, staleAtMs: final ? Number.POSITIVE_INFINITY : this.#now() + wait });
    while (this.#cache.size > this.#o.maxEntries)
      this.#cache.delete(this.#cache.keys().next().value as string);
  }
}

function toView(answer: HttpAnswer, checkedAt: string): CloudView {
  const body = (answer.json ?? {}) as {
    state?: unknown;
    sender?: unknown;
    graphRequestId?: unknown;
    updatedAt?: unknown;
    error?: { code?: unknown; message?: unknown; hint?: unknown };
  };
  if (answer.status === 200 && typeof body.state === 'string') {
    const view: CloudView = { kind: 'state', state: body.state, checkedAt };
    if (typeof body.sender === 'string') view.sender = body.sender;
    if (typeof body.graphRequestId === 'string') view.graphRequestId = body.graphRequestId;
    if (typeof body.updatedAt === 'string') view.updatedAt = body.updatedAt;
    const e = body.error;
    if (e && typeof e.code === 'string')
      view.error = {
        code: e.code,
        message: String(e.message ?? ''),
        ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
      };
    return view;
  }
  const code = typeof body.error?.code === 'string' ? body.error.code : undefined;
  if (code === 'MESSAGE_NOT_FOUND')
    return { kind: 'unavailable', reason: 'the function has no record of this message', checkedAt };
  return {
    kind: 'unavailable',
    reason: code
      ? `the function answered ${answer.status} ${code}`
      : `the function answered HTTP ${answer.status}`,
    checkedAt,
  };
}

/**
 * At most one deep health probe per site per interval, on this instance: the deep health route fires Graph
 * requests (a token, then one to three per sender mailbox) that compete with real sends for the mailboxes'
 * Graph budget, so a monitor polling every few seconds — or a leaked site secret — must not multiply them.
 * Between probes the route answers with the last probe's result; callers that arrive while a probe runs
 * wait for that same probe (single flight), so a burst costs one probe.
 *
 * The limit is per instance, not global: with N instances of the function app a site gets at most N probes
 * per interval (Flex Consumption scales HTTP instances with load; the app's maximumInstanceCount bounds N).
 * A shared record in Table Storage would make it global, at the price of a storage round trip on every
 * health request and a second writer to reason about; docs/security-model.md says why per instance is
 * enough here (the caller must hold the site's secret, and N is small and bounded).
 */
export interface CachedProbe<T> {
  answer: T;
  /** When the probe that produced `answer` started (ms since epoch). */
  probedAtMs: number;
  /** False when this call started the probe, true when it reused one (finished or still running) another call started. */
  reused: boolean;
}

interface Entry<T> {
  startedAtMs: number;
  answer: Promise<T>;
}

export class ProbeCache<T> {
  readonly #entries = new Map<string, Entry<T>>();

  constructor(readonly intervalMs: number) {}

  async get(key: string, nowMs: number, probe: () => Promise<T>): Promise<CachedProbe<T>> {
    const entry = this.#entries.get(key);
    if (entry && nowMs - entry.startedAtMs < this.intervalMs) {
      return { answer: await entry.answer, probedAtMs: entry.startedAtMs, reused: true };
    }
    const fresh: Entry<T> = { startedAtMs: nowMs, answer: probe() };
    this.#entries.set(key, fresh);
    try {
      return { answer: await fresh.answer, probedAtMs: nowMs, reused: false };
    } catch (err) {
      // A probe that threw has no answer worth keeping: the next caller probes again.
      if (this.#entries.get(key) === fresh) this.#entries.delete(key);
      throw err;
    }
  }
}

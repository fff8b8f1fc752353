import { bridgeError, type BridgeError } from '../../core/errors';
import { statusOf, toStorageError } from '../state/storage-errors';
import type { TenantRegistry } from './tenant-registry';

/**
 * The per-site message rate: at most `ratePerMinute` accepted posts per site in each one-minute window, counted
 * in one registry row per site (partition `rate`) with ETag-conditional writes, so every instance of the
 * function counts against the same budget. A site over its rate gets SITE_RATE_LIMITED (429, Retry-After) on
 * intake, before anything is recorded: the edge keeps the message and retries, and the other sites' mailbox
 * pacing slots are never spent on it.
 */
const RATE = 'rate';
const WINDOW_MS = 60_000;

interface RateEntity {
  partitionKey: string;
  rowKey: string;
  windowStartMs: number;
  count: number;
}

/** Counts one post; undefined when allowed, else the refusal to answer with. */
export async function takeSiteRate(
  registry: TenantRegistry,
  siteId: string,
  ratePerMinute: number | undefined,
  nowMs: number,
): Promise<BridgeError | undefined> {
  if (ratePerMinute === undefined) return undefined;
  await registry.ready();
  const table = registry.table;
  for (let i = 0; i < 10; i++) {
    let current: (RateEntity & { etag: string }) | undefined;
    try {
      current = (await table.getEntity<RateEntity>(RATE, siteId)) as RateEntity & { etag: string };
    } catch (err) {
      if (statusOf(err) !== 404) throw toStorageError(err, 'read site rate');
    }
    const inWindow = current !== undefined && nowMs - current.windowStartMs < WINDOW_MS;
    const count = inWindow ? current!.count : 0;
    const windowStartMs = inWindow ? current!.windowStartMs : nowMs;
    if (count >= ratePerMinute) {
      const retryAfterMs = Math.max(1000, windowStartMs + WINDOW_MS - nowMs);
      return bridgeError('SITE_RATE_LIMITED', {
        detail: `site "${siteId}" may post ${ratePerMinute} messages a minute`,
        retryAfterMs,
      });
    }
    const next: RateEntity = { partitionKey: RATE, rowKey: siteId, windowStartMs, count: count + 1 };
    try {
      if (current) await table.updateEntity(next, 'Replace', { etag: current.etag });
      else await table.createEntity(next);
      return undefined;
    } catch (err) {
      const status = statusOf(err);
      if (status !== 412 && status !== 409) throw toStorageError(err, 'count site rate');
    }
  }
  return bridgeError('SITE_RATE_LIMITED', { detail: 'rate row contended', retryAfterMs: 1000 });
}

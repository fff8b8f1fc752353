import type { Spool } from '../spool/spool';
import { type HttpRouter, sendJson } from './router';

/**
 * GET /healthz: 200 while the listener can take mail, 503 when the spool refuses new messages (full), so a
 * container orchestrator or monitoring sees it. The body carries the spool numbers, never message data.
 */
/** More checks to merge in (metrics/operations.ts: spool writable, function reachability); not ok → 503. */
export type HealthExtra = () => Promise<{ ok: boolean; details: Record<string, unknown> }>;

export function registerHealth(
  router: HttpRouter,
  spool: Spool,
  smtp: () => { listening: boolean; connections: number },
  extra?: HealthExtra,
): void {
  router.add('GET', '/healthz', async (_req, res) => {
    const full = spool.capacityProblem();
    const s = smtp();
    const more = extra ? await extra() : { ok: true, details: {} };
    const ok = s.listening && !full && more.ok;
    sendJson(res, ok ? 200 : 503, {
      status: ok ? 'ok' : 'degraded',
      smtp: s,
      spool: spool.stats(),
      problem: full?.code,
      ...more.details,
    });
  });
}

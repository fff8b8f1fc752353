import { describe, expect, it } from 'vitest';

import { formatReport } from '../../bench/soak/run';
import { runSoak } from '../../bench/soak/soak';

/**
 * The short version of `npm run soak` (bench/soak/): a few hundred messages through the real edge, the local
 * function host on Azurite and the Graph sandbox, with SIGKILLs of the edge and the function host, Graph
 * fault storms (429 + Retry-After, 503, hangs, answers lost), a token outage and — when the run may mount a
 * tmpfs (root) — a disk-full episode. Every message a device got a 250 for must end delivered exactly once
 * or held with its body; none lost, none twice, and no device told 5xx for a message that was delivered.
 * The long run (5,000+) is `npm run soak`; its numbers are in docs/design/custody-edge.md.
 */
const MESSAGES = Number(process.env.BRIDGE_SOAK_MESSAGES ?? 200);

describe('custody soak (short)', () => {
  it(`accounts for every accepted message under chaos (${MESSAGES} messages): 0 lost, 0 duplicates`, async () => {
    const report = await runSoak({
      messages: MESSAGES,
      concurrency: 6,
      chaosEveryMs: 1500,
      seed: Number(process.env.BRIDGE_SOAK_SEED ?? 20261206),
      settleMs: 45_000,
      spoolTmpfsMb: 32,
    });
    process.stdout.write(`\nshort soak:\n${formatReport(report)}`);
    expect(report.accepted).toBeGreaterThanOrEqual(MESSAGES);
    // chaos happened: at least one process was killed and Graph failed requests
    expect((report.restarts.edge ?? 0) + (report.restarts.function ?? 0)).toBeGreaterThan(0);
    expect(Object.keys(report.chaos).some((k) => k.startsWith('graph-'))).toBe(true);
    expect({
      lost: report.lost,
      lostIds: report.lostIds,
      duplicates: report.duplicates,
      fiveXxDelivered: report.fiveXxDelivered,
    }).toEqual({ lost: 0, lostIds: [], duplicates: 0, fiveXxDelivered: 0 });
    // everything accepted reached a final state or is still in the edge's custody with its body
    expect(report.deliveredOnce + report.heldWithBody + report.pending).toBe(report.accepted);
  }, 240_000);
});

import { writeFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';

import type { SandboxFault } from '../../dev/graph-sandbox/options';
import type { SoakCluster } from './soak-cluster';

/**
 * What can go wrong during a soak, one entry per kind, chosen at random (seeded) while messages flow. New
 * faults plug in here: a kind is a name, a weight and what it does to the cluster — e.g. Graph sandbox
 * faults that exist later ("Sent Items lag", a different "answer lost") are one more entry that injects them.
 */
export interface ChaosContext {
  cluster: SoakCluster;
  random: () => number;
  /** The edge's spool directory when it is on its own small file system (the disk-full episode), else undefined. */
  fillableSpoolDir?: string;
  log: (line: string) => void;
}

export interface ChaosKind {
  name: string;
  weight: number;
  run(ctx: ChaosContext): Promise<void>;
}

const between = (r: () => number, lo: number, hi: number) => Math.round(lo + r() * (hi - lo));

function graphStorm(name: string, fault: (r: () => number) => SandboxFault): ChaosKind {
  return {
    name,
    weight: 2,
    async run(ctx) {
      const f = fault(ctx.random);
      ctx.cluster.graph.inject(f);
      ctx.log(`${name}: ${f.times ?? 1} × ${f.action ?? f.status}`);
    },
  };
}

export const CHAOS_KINDS: readonly ChaosKind[] = [
  {
    name: 'kill-edge',
    weight: 2,
    async run(ctx) {
      await ctx.cluster.killAndRestart('edge', between(ctx.random, 0, 500));
      ctx.log('SIGKILL edge, restarted');
    },
  },
  {
    name: 'kill-function',
    weight: 2,
    async run(ctx) {
      await ctx.cluster.killAndRestart('function', between(ctx.random, 0, 1500));
      ctx.log('SIGKILL function host, restarted');
    },
  },
  graphStorm('graph-429', (r) => ({
    route: 'sendMail',
    status: 429,
    code: 'ApplicationThrottled',
    retryAfterSec: between(r, 1, 3),
    times: between(r, 3, 15),
  })),
  graphStorm('graph-503', (r) => ({ route: 'sendMail', status: 503, times: between(r, 3, 15) })),
  graphStorm('graph-hang', (r) => ({ route: 'sendMail', action: 'hang', times: between(r, 1, 3) })),
  // Graph carries the send out, then the connection drops without an answer (the sandbox's processFirst+drop).
  graphStorm('graph-answer-lost', (r) => ({
    route: 'sendMail',
    action: 'drop',
    processFirst: true,
    times: between(r, 1, 3),
  })),
  {
    name: 'token-outage',
    weight: 1,
    async run(ctx) {
      const times = between(ctx.random, 5, 30);
      ctx.cluster.graph.inject({ route: 'token', status: 503, times });
      ctx.log(`token-outage: ${times} token requests answered 503`);
    },
  },
  {
    name: 'disk-full',
    weight: 1,
    async run(ctx) {
      if (!ctx.fillableSpoolDir) return;
      const filler = join(ctx.fillableSpoolDir, '..', 'soak-filler');
      const s = await statfs(ctx.fillableSpoolDir);
      const free = s.bavail * s.bsize;
      const leave = 48 * 1024;
      try {
        if (free > leave) await writeFile(filler, Buffer.alloc(free - leave));
      } catch {
        // ENOSPC part-way is fine: the file system is full, which is the point
      }
      const ms = between(ctx.random, 1000, 4000);
      ctx.log(`disk-full: spool file system full for ${ms} ms`);
      await new Promise((r) => setTimeout(r, ms));
      await rm(filler, { force: true });
    },
  },
];

/** A seeded PRNG (mulberry32), so a run's chaos can be replayed with --seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The order of a run's chaos: every kind once first, in a seeded shuffled order (so even a short run meets each
 * fault while messages flow), then picks by weight. `roundDone` turns true once the first round has been drawn.
 */
export function chaosOrder(kinds: readonly ChaosKind[], random: () => number) {
  const firstRound = [...kinds];
  for (let i = firstRound.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [firstRound[i], firstRound[j]] = [firstRound[j]!, firstRound[i]!];
  }
  return {
    next: (): ChaosKind => firstRound.shift() ?? pickChaos(kinds, random),
    get roundDone() {
      return firstRound.length === 0;
    },
  };
}

export function pickChaos(kinds: readonly ChaosKind[], random: () => number): ChaosKind {
  const total = kinds.reduce((s, k) => s + k.weight, 0);
  let x = random() * total;
  for (const k of kinds) {
    x -= k.weight;
    if (x < 0) return k;
  }
  return kinds[kinds.length - 1]!;
}

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';

import { edgeSettingsSchema } from '../../edge-listener/config';
import { SoakCluster } from '../soak/soak-cluster';
import { loadAverage } from '../report/results-file';
import { burstScans, COPIER_SENDER, RECIPIENT, type Scan } from './scans';

/**
 * One burst (issue 13, "Burst"): `scans` scans from one copier (one client address, one sender mailbox)
 * handed to the edge at once over `connections` SMTP connections, through the whole stack as `npm start`
 * wires it — edge listener, the local function host with the product's defaults, Azurite — to the Graph
 * sandbox, which enforces Exchange's per-mailbox limits (docs/design/platform-facts.md §A3) and counts every
 * throttling answer. Measured: when each scan got its 250, when the sandbox accepted it, how often, and how
 * many 429s the bridge provoked.
 */
export interface BurstOptions {
  scans: number;
  scanBytes: number;
  connections: number;
  /** Exchange's limits, set in the sandbox and (the same values) in the function's settings. */
  limits: { concurrency: number; perMinute: number };
  /** Longest wait for every scan to be in the sandbox, counted from the first connection. */
  timeoutMs: number;
  /** A progress line this often (ms). */
  progressEveryMs: number;
  workDir?: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface TimelineEntry {
  scan: number;
  /** ms after the burst started when the scan got its 250 (null: refused or failed). */
  acceptedMs: number | null;
  /** ms after the burst started when the sandbox accepted it first (null: never). */
  sentMs: number | null;
  /** How many times the sandbox accepted it (1 = exactly once). */
  sentCount: number;
  /** The reply or error when it got no 250. */
  refusal?: string;
}

export interface BurstResult {
  scans: number;
  scanBytes: number;
  connections: number;
  limits: { concurrency: number; perMinute: number };
  /** The edge's reply-hold settings as the edge ran (its defaults unless the environment set them). */
  edgeReplyHold: Record<string, unknown>;
  startedAt: string;
  load: [number, number, number];
  accepted: number;
  /** Until the last 250. */
  acceptAllMs: number | null;
  acceptP50Ms: number | null;
  deliveredOnce: number;
  duplicates: number;
  missing: number;
  /** Until the sandbox had every scan. */
  drainMs: number | null;
  /** scans / perMinute minutes: the issue's theoretical minimum. */
  minimumDrainMs: number;
  /**
   * The sliding minute lets a first window's worth go at once: the last scan cannot start before
   * (ceil(scans / perMinute) − 1) minutes. A drain can beat minimumDrainMs, never this bound.
   */
  windowBoundMs: number;
  drainVsMinimum: number | null;
  throttles: { concurrency: number; rate: number; total: number };
  /** Graph requests the sandbox saw for the sender mailbox (sendMail incl. refused ones). */
  graphRequests: number;
  /** From the function's log: answered 202 at intake, re-queued while pacing, sent. */
  functionEvents: Record<string, number>;
  timedOut: boolean;
  timeline: TimelineEntry[];
}

const HOLD_SETTING = /HOLD|FORWARD_BUDGET/;

/** The reply-hold settings of the edge and the values it runs with (environment, else the default). */
export function edgeReplyHoldSettings(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const shape = edgeSettingsSchema.shape as Record<
    string,
    { safeParse(v: unknown): { success: boolean; data?: unknown } }
  >;
  for (const [name, schema] of Object.entries(shape)) {
    if (!HOLD_SETTING.test(name)) continue;
    const parsed = schema.safeParse(env[name]);
    out[name] = parsed.success ? parsed.data : env[name];
  }
  return out;
}

export async function runBurst(o: BurstOptions): Promise<BurstResult> {
  const runId = Date.now().toString(36);
  const scans = burstScans(o.scans, o.scanBytes, runId);
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'burst-'));
  const keepWorkDir = o.workDir !== undefined;
  const load = loadAverage();
  const startedAt = new Date().toISOString();
  o.log(`starting the stack in ${workDir} (load ${load.join(' ')})`);
  const cluster = await SoakCluster.start({
    workDir,
    spoolDir: join(workDir, 'spool'),
    edgeEnv: {},
    functionEnv: {
      BRIDGE_MAILBOX_CONCURRENCY: String(o.limits.concurrency),
      BRIDGE_MAILBOX_PER_MINUTE: String(o.limits.perMinute),
    },
    functionTuning: {},
    functionHost: 'stock',
    sandbox: {
      mailboxConcurrency: o.limits.concurrency,
      mailboxPerMinute: o.limits.perMinute,
      maxKeptMessages: o.scans * 3 + 10,
    },
    tokenLifetimeSec: 3599,
    keptMessages: o.scans * 3 + 10,
  });
  try {
    return await burst(o, cluster, scans, { startedAt, load, workDir });
  } finally {
    await cluster.close();
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  }
}

async function burst(
  o: BurstOptions,
  cluster: SoakCluster,
  scans: Scan[],
  run: { startedAt: string; load: [number, number, number]; workDir: string },
): Promise<BurstResult> {
  const accepted = new Map<number, number>();
  const refused = new Map<number, string>();
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: o.connections,
    maxMessages: Infinity,
    host: '127.0.0.1',
    port: cluster.smtpPort,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 30_000,
    socketTimeout: 120_000,
  });
  const t0 = Date.now();
  const sending = scans.map((s) =>
    transport.sendMail({ envelope: { from: COPIER_SENDER, to: [RECIPIENT] }, raw: s.mime }).then(
      () => void accepted.set(s.index, Date.now() - t0),
      (err: unknown) =>
        void refused.set(s.index, err instanceof Error ? err.message.slice(0, 120) : String(err)),
    ),
  );
  const sentTimes = (): Map<string, number[]> => {
    const bySubject = new Map<string, number[]>();
    for (const m of cluster.graph.messages()) {
      const list = bySubject.get(m.subject) ?? [];
      list.push(Date.parse(m.receivedAt) - t0);
      bySubject.set(m.subject, list);
    }
    return bySubject;
  };
  const deliveredCount = () => scans.filter((s) => (cluster.delivered.get(s.subject) ?? 0) > 0).length;
  const progress = setInterval(() => {
    cluster.countDeliveries();
    const t = cluster.graph.throttles();
    o.log(
      `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s  accepted ${accepted.size}/${o.scans}` +
        `${refused.size ? ` (refused ${refused.size})` : ''}  sent ${deliveredCount()}/${o.scans}  throttles ${t.total}`,
    );
  }, o.progressEveryMs);
  let timedOut = false;
  try {
    const deadline = t0 + o.timeoutMs;
    for (;;) {
      cluster.countDeliveries();
      const settled = accepted.size + refused.size === o.scans;
      if (settled && deliveredCount() >= accepted.size) break;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      if (o.signal?.aborted) {
        timedOut = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // A late duplicate would show within seconds (a retried send); give it the chance to.
    await new Promise((r) => setTimeout(r, 3000));
    await Promise.race([Promise.all(sending), new Promise((r) => setTimeout(r, 1000))]);
  } finally {
    clearInterval(progress);
    transport.close();
  }

  const sent = sentTimes();
  const timeline: TimelineEntry[] = scans.map((s) => {
    const times = (sent.get(s.subject) ?? []).sort((a, b) => a - b);
    const count = Math.max(times.length, cluster.graph.sentCount(COPIER_SENDER, s.messageId));
    const refusal = refused.get(s.index);
    return {
      scan: s.index + 1,
      acceptedMs: accepted.get(s.index) ?? null,
      sentMs: times[0] ?? null,
      sentCount: count,
      ...(refusal ? { refusal } : {}),
    };
  });
  const acceptTimes = [...accepted.values()].sort((a, b) => a - b);
  const sentFirst = timeline.flatMap((e) => (e.sentMs === null ? [] : [e.sentMs]));
  const missing = timeline.filter((e) => e.acceptedMs !== null && e.sentCount === 0).length;
  const minimumDrainMs = Math.round((o.scans / o.limits.perMinute) * 60_000);
  const drainMs = missing === 0 && sentFirst.length > 0 ? Math.max(...sentFirst) : null;
  return {
    scans: o.scans,
    scanBytes: scans[0]?.mime.length ?? 0,
    connections: o.connections,
    limits: o.limits,
    edgeReplyHold: edgeReplyHoldSettings(process.env),
    startedAt: run.startedAt,
    load: run.load,
    accepted: accepted.size,
    acceptAllMs: accepted.size === o.scans ? (acceptTimes.at(-1) ?? null) : null,
    acceptP50Ms: acceptTimes[Math.floor((acceptTimes.length - 1) / 2)] ?? null,
    deliveredOnce: timeline.filter((e) => e.sentCount === 1).length,
    duplicates: timeline.filter((e) => e.sentCount > 1).length,
    missing,
    drainMs,
    minimumDrainMs,
    windowBoundMs: (Math.ceil(o.scans / o.limits.perMinute) - 1) * 60_000,
    drainVsMinimum: drainMs === null ? null : Math.round((drainMs / minimumDrainMs) * 100) / 100,
    throttles: cluster.graph.throttles(),
    graphRequests: cluster.graph
      .requests()
      .filter(
        (r) => r.route === 'sendMail' && decodeURIComponent(r.mailbox ?? '').toLowerCase() === COPIER_SENDER,
      ).length,
    functionEvents: functionEvents(join(run.workDir, 'function.log')),
    timedOut,
    timeline,
  };
}

const COUNTED_EVENTS = ['MESSAGE_SENT', 'MESSAGE_QUEUED', 'MESSAGE_REQUEUED', 'MESSAGE_DEFERRED'] as const;

/** How often the function logged each event (its log lines are JSON with an "event" field). */
function functionEvents(logFile: string): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(COUNTED_EVENTS.map((e) => [e, 0]));
  if (!existsSync(logFile)) return counts;
  for (const line of readFileSync(logFile, 'utf8').split('\n'))
    for (const e of COUNTED_EVENTS) if (line.includes(`"event":"${e}"`)) counts[e] = (counts[e] ?? 0) + 1;
  return counts;
}

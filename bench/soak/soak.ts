import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';

import { SpoolReader } from '../../edge-listener/cli/spool-reader';
import { spoolLayout } from '../../edge-listener/spool/layout';
import { CHAOS_KINDS, type ChaosKind, chaosOrder, seededRandom } from './chaos';
import { SoakCluster } from './soak-cluster';

/**
 * The custody soak (issue 9): N messages through the real edge, the local function host on Azurite and the
 * Graph sandbox, while chaos (chaos.ts) kills processes, storms Graph with faults, takes the token endpoint
 * down and fills the spool's disk. Then it waits for the dust to settle and accounts for every message a
 * device got a 250 for: delivered once, duplicated, held with its body for an admin, still pending (in
 * custody, not final within the settle time) — or lost. The promise is lost = 0 and duplicates = 0.
 */
export interface SoakOptions {
  /** Messages to get accepted (250). */
  messages: number;
  /** SMTP clients sending at the same time. */
  concurrency: number;
  /** Mean pause between two chaos events (ms); 0 = no chaos. */
  chaosEveryMs: number;
  /** Chaos kinds by name (default all). */
  chaos?: string[];
  seed: number;
  /** Longest wait after the last message for every accepted message to reach a final state. */
  settleMs: number;
  /** Size of the spool's own tmpfs for the disk-full episode (needs root); 0 = no tmpfs, no disk-full. */
  spoolTmpfsMb: number;
  workDir?: string;
  keepWorkDir?: boolean;
  log?: (line: string) => void;
  /** Ctrl-C: stop sending and settling, account for what was sent, clean up (processes, tmpfs). */
  signal?: AbortSignal;
}

export interface SoakReport {
  accepted: number;
  deliveredOnce: number;
  duplicates: number;
  heldWithBody: number;
  /** Of the held ones: delivered all the same (Graph's answer was lost; the edge could not know). */
  heldButDelivered: number;
  pending: number;
  lost: number;
  /** Submissions that got no 250 (4xx, connection lost, refused while the edge was down). */
  notAccepted: number;
  /** Of those: delivered anyway (the connection broke after the edge took custody). Not a custody failure. */
  deliveredWithout250: number;
  /** Why submissions got no 250 (reply or error, shortened), counted. */
  refusals: Record<string, number>;
  /** 5xx replies; `fiveXxDelivered` of them for a message that was delivered all the same (a violation). */
  fiveXx: number;
  fiveXxDelivered: number;
  heldReasons: Record<string, number>;
  pendingStates: Record<string, number>;
  lostIds: string[];
  duplicateIds: string[];
  chaos: Record<string, number>;
  restarts: Record<string, number>;
  peakRssMb: Record<string, number>;
  wallTimeMs: number;
  diskFull: 'tmpfs' | 'not run (needs root for a tmpfs)' | 'off';
  seed: number;
  /** The run was stopped early (signal): the numbers cover what was sent until then. */
  interrupted: boolean;
}

/** A run in which the edge refuses connections this long in total is broken, not slow. */
const MAX_REFUSED_MS = 60 * 60 * 1000;

interface Submission {
  subject: string;
  /** The connection was refused: no SMTP session, nothing sent. */
  refused?: boolean;
  spoolId?: string;
  reply: string;
  accepted: boolean;
  fiveXx: boolean;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const log = o.log ?? (() => undefined);
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'soak-'));
  mkdirSync(workDir, { recursive: true });
  const run = Math.floor(Date.now() / 1000).toString(36);
  const { spoolDir, tmpfs, diskFull } = prepareSpoolDir(workDir, o.spoolTmpfsMb);
  const random = seededRandom(o.seed);
  const kinds = CHAOS_KINDS.filter(
    (k) => (!o.chaos || o.chaos.includes(k.name)) && (k.name !== 'disk-full' || tmpfs),
  );
  const chaosCount: Record<string, number> = {};
  const cluster = await SoakCluster.start({
    workDir,
    spoolDir,
    edgeEnv: {
      BRIDGE_RETRY_SCHEDULE: '500ms,1s,2s,4s',
      BRIDGE_RETRY_JITTER: '0.2',
      BRIDGE_FORWARD_BUDGET_MS: '1500',
      BRIDGE_FORWARD_TIMEOUT_MS: '15000',
      BRIDGE_SPOOL_KEEP_DONE: String(o.messages * 4),
      BRIDGE_SPOOL_MIN_FREE_BYTES: String(256 * 1024),
      BRIDGE_SMTP_MAX_CONNECTIONS_PER_IP: String(Math.max(o.concurrency * 2, 20)),
      BRIDGE_SHUTDOWN_TIMEOUT_MS: '2000',
    },
    functionEnv: { BRIDGE_MAILBOX_PER_MINUTE: '600', BRIDGE_MAILBOX_CONCURRENCY: '4' },
    functionTuning: {
      queueRetryDelaysMs: [1000, 2000, 4000],
      maxRetryIntervalMs: 8000,
      graphTimeoutMs: 5000,
      pacingLeaseMs: 20_000,
      attemptStaleMs: 15_000,
    },
    tokenLifetimeSec: 360, // the credential refreshes within 5 min of expiry: every send asks for a token
    keptMessages: 2000, // counted as they arrive (SoakCluster.delivered); memory stays bounded
  });
  const submissions: Submission[] = [];
  try {
    let accepted = 0;
    let sending = true;
    const order = chaosOrder(kinds, random);
    // Sending goes on past the message count until every kind of chaos has happened once (the first round).
    let roundRan = o.chaosEveryMs <= 0 || kinds.length === 0;
    const chaos = (async () => {
      if (o.chaosEveryMs <= 0 || kinds.length === 0) return;
      while (sending && !o.signal?.aborted) {
        await new Promise((r) => setTimeout(r, o.chaosEveryMs * (0.5 + random())));
        if (!sending) break;
        const kind: ChaosKind = order.next();
        chaosCount[kind.name] = (chaosCount[kind.name] ?? 0) + 1;
        try {
          await kind.run({ cluster, random, ...(tmpfs ? { fillableSpoolDir: spoolDir } : {}), log });
        } catch (e) {
          log(`chaos ${kind.name} failed: ${(e as Error).message}`);
        }
        if (order.roundDone) roundRan = true;
      }
    })();
    let next = 0;
    const maxSubmissions = o.messages * 3;
    const sender = async (lane: number) => {
      while ((accepted < o.messages || !roundRan) && !o.signal?.aborted) {
        if (accepted >= o.messages) {
          // Past the count, waiting for the first round of chaos: one device trickles, ten a second.
          if (lane > 0) return;
          await new Promise((r) => setTimeout(r, 100));
        } else if (next >= maxSubmissions) return;
        const n = next++;
        let s = await submit(cluster.smtpPort, `soak ${run} #${n}`, `scanner-${n % SENDERS}@contoso.com`);
        // The edge is down (killed, restarting): nothing was sent; the device tries the same message later.
        while (s.refused && Date.now() - started < MAX_REFUSED_MS && !o.signal?.aborted) {
          await new Promise((r) => setTimeout(r, 250));
          s = await submit(cluster.smtpPort, s.subject, `scanner-${n % SENDERS}@contoso.com`);
        }
        submissions.push(s);
        if (s.accepted) accepted++;
        else await new Promise((r) => setTimeout(r, 200)); // a device waits a little before trying again
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, (_, lane) => sender(lane)));
    sending = false;
    await chaos;
    log(`sent: ${accepted} accepted of ${submissions.length} submissions; settling`);

    const layout = spoolLayout(spoolDir);
    const reader = new SpoolReader(layout);
    const deadline = Date.now() + o.settleMs;
    let account = await accountFor(submissions, cluster, reader, layout.messages);
    while (account.pending > 0 && Date.now() < deadline && !o.signal?.aborted) {
      await new Promise((r) => setTimeout(r, 1000));
      account = await accountFor(submissions, cluster, reader, layout.messages);
    }
    return {
      ...account,
      chaos: chaosCount,
      restarts: { ...cluster.restarts },
      peakRssMb: cluster.peakRssMb(),
      wallTimeMs: Date.now() - started,
      diskFull,
      seed: o.seed,
      interrupted: o.signal?.aborted ?? false,
    };
  } finally {
    await cluster.close().catch(() => undefined);
    if (tmpfs) {
      try {
        execFileSync('umount', [tmpfs]);
      } catch {
        // still busy: left mounted under the work dir
      }
    }
    if (!o.keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  }
}

/** Sender mailboxes the messages spread over (the function paces each mailbox, as Exchange limits it). */
const SENDERS = 20;

async function submit(port: number, subject: string, from: string): Promise<Submission> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    const info = await transport.sendMail({
      from,
      to: 'soak@fabrikam.com',
      subject,
      text: `soak message ${subject}\n${'x'.repeat(2000)}`,
    });
    const spoolId = / (?:queued|sent) as (\S+)/.exec(info.response)?.[1];
    return {
      subject,
      reply: info.response,
      accepted: /^250 /.test(info.response),
      fiveXx: false,
      ...(spoolId ? { spoolId } : {}),
    };
  } catch (e) {
    const code = (e as { responseCode?: number }).responseCode;
    return {
      subject,
      ...(/ECONNREFUSED/.test((e as Error).message) ? { refused: true } : {}),
      reply: (e as Error).message.slice(0, 200),
      accepted: false,
      fiveXx: code !== undefined && code >= 500,
    };
  } finally {
    transport.close();
  }
}

type Account = Omit<
  SoakReport,
  'chaos' | 'restarts' | 'peakRssMb' | 'wallTimeMs' | 'diskFull' | 'seed' | 'interrupted'
>;

async function accountFor(
  subs: Submission[],
  cluster: SoakCluster,
  reader: SpoolReader,
  messagesDir: string,
): Promise<Account> {
  // Live entries only (one directory scan): an accepted message with no Graph copy and no live entry is lost,
  // whether or not a done record claims otherwise.
  const live = new Map(
    (await reader.list({ states: ['queued', 'deferred', 'cloud', 'failed'] })).map((e) => [e.id, e]),
  );
  cluster.countDeliveries();
  const delivered = cluster.delivered;
  const a: Account = {
    accepted: 0,
    deliveredOnce: 0,
    duplicates: 0,
    heldWithBody: 0,
    heldButDelivered: 0,
    pending: 0,
    lost: 0,
    notAccepted: 0,
    deliveredWithout250: 0,
    fiveXx: 0,
    fiveXxDelivered: 0,
    heldReasons: {},
    pendingStates: {},
    refusals: {},
    lostIds: [],
    duplicateIds: [],
  };
  for (const s of subs) {
    const count = delivered.get(s.subject) ?? 0;
    if (!s.accepted) {
      a.notAccepted++;
      if (count > 0) a.deliveredWithout250++;
      const why = s.reply
        .replace(/\s+/g, ' ')
        .replace(/[0-9a-z]{10}-soak-\S+/g, '<id>')
        .slice(0, 60);
      a.refusals[why] = (a.refusals[why] ?? 0) + 1;
      if (s.fiveXx) {
        a.fiveXx++;
        if (count > 0) a.fiveXxDelivered++;
      }
      continue;
    }
    a.accepted++;
    if (count > 1) {
      a.duplicates++;
      a.duplicateIds.push(s.spoolId ?? s.subject);
    }
    const entry = s.spoolId ? live.get(s.spoolId) : undefined;
    if (count === 1) a.deliveredOnce++;
    if (entry?.state === 'failed') {
      const hasBody = s.spoolId ? existsSync(join(messagesDir, `${s.spoolId}.eml`)) : false;
      if (count >= 1) a.heldButDelivered++;
      else if (hasBody) {
        a.heldWithBody++;
        const code = entry.lastError?.code ?? '?';
        a.heldReasons[code] = (a.heldReasons[code] ?? 0) + 1;
      } else {
        a.lost++;
        a.lostIds.push(s.spoolId ?? s.subject);
      }
      continue;
    }
    if (count >= 1) continue;
    if (entry) {
      a.pending++;
      a.pendingStates[entry.state] = (a.pendingStates[entry.state] ?? 0) + 1;
      continue;
    }
    a.lost++;
    a.lostIds.push(s.spoolId ?? s.subject);
  }
  return a;
}

/**
 * The spool on its own small tmpfs when we may mount one (root), so the disk-full episode fills a real file
 * system without touching the machine's disks; otherwise under the work dir, and no disk-full episode.
 */
function prepareSpoolDir(
  workDir: string,
  tmpfsMb: number,
): { spoolDir: string; tmpfs?: string; diskFull: SoakReport['diskFull'] } {
  const plain = join(workDir, 'edge-data');
  if (tmpfsMb <= 0) return { spoolDir: plain, diskFull: 'off' };
  const mountPoint = join(workDir, 'spoolfs');
  mkdirSync(mountPoint, { recursive: true });
  try {
    if (process.getuid?.() !== 0) throw new Error('not root');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${tmpfsMb}m,mode=0700`, 'tmpfs', mountPoint]);
    const spoolDir = join(mountPoint, 'data');
    mkdirSync(spoolDir, { recursive: true });
    return { spoolDir, tmpfs: mountPoint, diskFull: 'tmpfs' };
  } catch {
    return { spoolDir: plain, diskFull: 'not run (needs root for a tmpfs)' };
  }
}

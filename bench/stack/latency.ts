import { execFileSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import type { SandboxMessage } from '../../dev/graph-sandbox/options';
import { mailboxes, scanFactory, textFactory } from './messages';
import {
  currentCommand,
  formatLoad,
  type LoadAverage,
  loadAverage,
  loadedMachineNote,
  machineLine,
  writeResults,
} from '../report/results-file';
import { nowMs, sendOne, type SendResult } from './smtp-client';
import { histogram, ms, summarize, type HistogramBucket, type LatencySummary } from './stats';
import { startStackUnderTest } from './stack-under-test';

const HELP = `Usage: npm run bench:latency -- [options]

The latency a user feels, on the whole stack as \`npm start\` runs it: from the device's end of DATA (a raw-socket
SMTP client writes the final ".") to the moment the Graph sandbox receives the Graph request that carries the
message (sendMail, or createMessage of the draft that is then sent), for a 50 KB scan (a text part and a
PDF-like base64 attachment). Both clocks are this process's (the sandbox runs in it), epoch ms with a fraction.

Phases:
  idle        one probe at a time, each after the previous one reached the sandbox
  load        probes every --probe-every ms while background messages arrive at --rate msg/s from
              --bg-mailboxes sender mailboxes (so no mailbox nears Exchange's 30 a minute or 4 concurrent)
  idle-wait   the first probe after --idle-seconds without any traffic (the process stays up)
  fresh-host  the first probe after the function host was restarted (a new process: its first token, first
              storage and Graph connections, first run of the send path)

Options:
  --probes <n>          idle probes (default 40; quick 10)
  --load-seconds <s>    background load duration (default 30; quick 10)
  --rate <n>            background messages per second (default 100)
  --bg-bytes <n>        background message size (default 10240)
  --bg-mailboxes <n>    background sender mailboxes (default 200)
  --probe-every <ms>    probe interval under load (default 500)
  --idle-seconds <s>    idle before each idle-wait probe (default 15; quick 6)
  --idle-waits <n>      idle-wait probes (default 2; quick 1)
  --restarts <n>        fresh-host probes (default 3; quick 1)
  --quick               the small numbers above (also BENCH_QUICK=1): checks the harness
  --no-write            print only; leave bench/results/latency.* alone
  --help                this text

Writes bench/results/latency.md and latency.json (with every sample and a histogram per phase).
About 2-3 minutes on an idle machine.`;

const PROBE_BYTES = 50 * 1024;
const PROBE_PREFIX = 'stack-bench probe';
/** Probes take turns over these mailboxes: 12 a minute each at the default interval, under Exchange's 30. */
const PROBE_MAILBOXES = mailboxes('probe', 10);
const COLD_MAILBOXES = mailboxes('cold', 10);
/**
 * Background connections at once, below the edge's 500 in all (BRIDGE_SMTP_MAX_CONNECTIONS); they come from
 * BG_ADDRESSES source addresses (devices of their own) because the edge allows 100 per client address.
 * Probes come from PROBE_ADDRESS, a device nobody else uses.
 */
const BG_MAX_IN_FLIGHT = 400;
const BG_ADDRESSES = Array.from({ length: 10 }, (_, i) => `127.0.1.${i + 1}`);
const PROBE_ADDRESS = '127.0.0.2';

type Phase = 'idle' | 'load' | 'idle-wait' | 'fresh-host';

interface Probe {
  phase: Phase;
  subject: string;
  from: string;
  code: number;
  dataEndAtMs?: number;
  replyAtMs?: number;
  /** Arrival at the sandbox of the message's first accepted Graph request. */
  arrivedAtMs?: number;
  route?: string;
  /** When the sandbox kept it (the send accepted, 202), ms resolution. */
  keptAtMs?: number;
  /** End of DATA → Graph request arrives. */
  latencyMs?: number;
  /** End of DATA → the device has its reply. */
  replyMs?: number;
  copies: number;
  /** fresh-host: how long the function host took from SIGTERM to healthy again. */
  restartMs?: number;
}

interface PhaseRow extends LatencySummary {
  phase: Phase;
  what: string;
  replyP50Ms?: number;
  replyP99Ms?: number;
  /** Probes that never reached the sandbox or were refused. */
  failed: number;
  /** p99 of this process's event-loop delay during the phase: the error bar of both timestamps. */
  harnessLoopDelayP99Ms: number;
  load: LoadAverage;
}

const log = (line: string) => process.stderr.write(`[bench:latency] ${line}\n`);
const sleep = (msDelay: number) => new Promise((r) => setTimeout(r, msDelay));
const round = (x: number | undefined, d = 2) =>
  x === undefined ? undefined : Math.round(x * 10 ** d) / 10 ** d;

class Arrivals {
  readonly bySubject = new Map<
    string,
    { arrivedAtMs?: number; route?: string; keptAtMs: number; copies: number }
  >();
  bgDelivered = 0;

  onMessage = (m: SandboxMessage): void => {
    if (m.subject.startsWith(PROBE_PREFIX)) {
      const seen = this.bySubject.get(m.subject);
      if (seen) {
        seen.copies += 1;
        return;
      }
      const first = m.requests[0];
      this.bySubject.set(m.subject, {
        ...(first?.arrivedAtMs !== undefined ? { arrivedAtMs: first.arrivedAtMs } : {}),
        ...(first ? { route: first.route } : {}),
        keptAtMs: Date.parse(m.receivedAt),
        copies: 1,
      });
    } else if (m.subject.startsWith('stack-bench bg')) this.bgDelivered += 1;
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      probes: { type: 'string' },
      'load-seconds': { type: 'string' },
      rate: { type: 'string' },
      'bg-bytes': { type: 'string' },
      'bg-mailboxes': { type: 'string' },
      'probe-every': { type: 'string' },
      'idle-seconds': { type: 'string' },
      'idle-waits': { type: 'string' },
      restarts: { type: 'string' },
      quick: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const quick = values.quick === true || process.env.BENCH_QUICK === '1';
  const int = (name: keyof typeof values, dflt: number, min = 0) => {
    const v = values[name];
    if (v === undefined || typeof v !== 'string') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
    return n;
  };
  const o = {
    probes: int('probes', quick ? 10 : 40, 1),
    loadSeconds: int('load-seconds', quick ? 10 : 30, 1),
    rate: int('rate', 100, 1),
    bgBytes: int('bg-bytes', 10 * 1024, 100),
    bgMailboxes: int('bg-mailboxes', 200, 1),
    probeEveryMs: int('probe-every', 500, 50),
    idleSeconds: int('idle-seconds', quick ? 6 : 15, 0),
    idleWaits: int('idle-waits', quick ? 1 : 2, 0),
    restarts: int('restarts', quick ? 1 : 3, 0),
  };
  const command = currentCommand('tsx bench/stack/latency.ts');
  const scan = scanFactory(PROBE_BYTES);
  const text = textFactory(o.bgBytes);
  const arrivals = new Arrivals();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();

  log('starting the stack: Azurite, Graph sandbox, function host, edge listener');
  const t0 = Date.now();
  const stack = await startStackUnderTest({ keptMessages: 2000, onMessage: arrivals.onMessage });
  log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const probes: Probe[] = [];
  const rows: PhaseRow[] = [];
  let background: Record<string, unknown> = {};
  let seq = 0;

  const probe = async (phase: Phase, from: string, extra: Partial<Probe> = {}): Promise<Probe> => {
    const subject = `${PROBE_PREFIX} ${phase} ${++seq} ${process.pid}`;
    const r: SendResult = await sendOne({
      port: stack.smtpPort,
      localAddress: PROBE_ADDRESS,
      from,
      to: ['alice@example.com'],
      message: scan({ from, subject }),
    });
    const p: Probe = { phase, subject, from, code: r.code, copies: 0, ...extra };
    if (r.dataEndAtMs !== undefined) p.dataEndAtMs = r.dataEndAtMs;
    if (r.replyAtMs !== undefined) p.replyAtMs = r.replyAtMs;
    probes.push(p);
    if (r.code !== 250) log(`${phase} probe refused: ${r.code} ${r.reply.split('\n')[0]}`);
    return p;
  };
  /** Waits until the probes reached the sandbox (or the deadline), then fills in their arrival. */
  const arrive = async (list: Probe[], timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    const pending = () => list.filter((p) => p.code === 250 && !arrivals.bySubject.has(p.subject));
    while (pending().length > 0 && Date.now() < end) {
      stack.cluster.countDeliveries();
      await sleep(10);
    }
    stack.cluster.countDeliveries();
    for (const p of list) {
      const a = arrivals.bySubject.get(p.subject);
      if (!a) continue;
      p.copies = a.copies;
      p.keptAtMs = a.keptAtMs;
      if (a.route) p.route = a.route;
      if (a.arrivedAtMs !== undefined) p.arrivedAtMs = round(a.arrivedAtMs, 3) as number;
      if (a.arrivedAtMs !== undefined && p.dataEndAtMs !== undefined)
        p.latencyMs = round(a.arrivedAtMs - p.dataEndAtMs, 3) as number;
    }
    for (const p of list)
      if (p.replyAtMs !== undefined && p.dataEndAtMs !== undefined)
        p.replyMs = round(p.replyAtMs - p.dataEndAtMs, 3) as number;
  };
  const row = (phase: Phase, what: string, list: Probe[], load: LoadAverage): PhaseRow => {
    const lat = list.flatMap((p) => (p.latencyMs !== undefined ? [p.latencyMs] : []));
    const reply = summarize(list.flatMap((p) => (p.replyMs !== undefined ? [p.replyMs] : [])));
    const r: PhaseRow = {
      phase,
      what,
      ...summarize(lat),
      failed: list.length - lat.length,
      harnessLoopDelayP99Ms: round(loop.percentile(99) / 1e6) as number,
      load,
    };
    if (reply.p50Ms !== undefined) r.replyP50Ms = reply.p50Ms;
    if (reply.p99Ms !== undefined) r.replyP99Ms = reply.p99Ms;
    log(
      `${phase}: p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms (n=${r.count}, failed ${r.failed}); device reply p50 ${ms(r.replyP50Ms)} ms`,
    );
    rows.push(r);
    return r;
  };

  try {
    log('warm-up: 10 probes (not counted)');
    for (let i = 0; i < 10; i++)
      await arrive([await probe('idle', COLD_MAILBOXES[i % 10] as string)], 60_000);
    probes.length = 0;

    // (a) idle
    let load = loadAverage();
    loop.reset();
    log(`idle: ${o.probes} probes one at a time (load ${formatLoad(load)})`);
    const idle: Probe[] = [];
    for (let i = 0; i < o.probes; i++) {
      const p = await probe('idle', PROBE_MAILBOXES[i % PROBE_MAILBOXES.length] as string);
      await arrive([p], 60_000);
      idle.push(p);
    }
    row('idle', 'one 50 KB scan at a time, nothing else', idle, load);

    // (b) under load
    load = loadAverage();
    loop.reset();
    log(
      `load: ${o.rate} msg/s of ${o.bgBytes} B from ${o.bgMailboxes} mailboxes for ${o.loadSeconds} s, a probe every ${o.probeEveryMs} ms (load ${formatLoad(load)})`,
    );
    const bgFrom = mailboxes('bg', o.bgMailboxes);
    const bg = {
      launched: 0,
      accepted: 0,
      lastReplyMs: 0,
      refused: new Map<string, number>(),
      inFlightMax: 0,
      capped: 0,
    };
    let inFlight = 0;
    const bgSends: Array<Promise<void>> = [];
    const underLoad: Probe[] = [];
    const probeSends: Array<Promise<Probe>> = [];
    const started = Date.now();
    const durationMs = o.loadSeconds * 1000;
    let nextProbeAt = started + 2000; // let the load establish itself first
    let probeTurn = 0;
    while (Date.now() - started < durationMs) {
      const due = Math.floor(((Date.now() - started) * o.rate) / 1000);
      while (bg.launched < due) {
        if (inFlight >= BG_MAX_IN_FLIGHT) {
          bg.capped += 1;
          break;
        }
        const n = bg.launched++;
        const from = bgFrom[n % bgFrom.length] as string;
        inFlight += 1;
        bg.inFlightMax = Math.max(bg.inFlightMax, inFlight);
        bgSends.push(
          sendOne({
            port: stack.smtpPort,
            localAddress: BG_ADDRESSES[n % BG_ADDRESSES.length] as string,
            from,
            to: ['user@example.com'],
            message: text({ from, subject: `stack-bench bg ${n}` }),
          }).then((r) => {
            inFlight -= 1;
            bg.lastReplyMs = Date.now();
            if (r.code === 250) bg.accepted += 1;
            else {
              const key = `${r.code} ${r.reply.split('\n')[0]?.slice(0, 60) ?? ''}`;
              bg.refused.set(key, (bg.refused.get(key) ?? 0) + 1);
            }
          }),
        );
      }
      if (Date.now() >= nextProbeAt) {
        nextProbeAt += o.probeEveryMs;
        const from = PROBE_MAILBOXES[probeTurn++ % PROBE_MAILBOXES.length] as string;
        probeSends.push(probe('load', from));
      }
      await sleep(5);
    }
    const loadEndMs = Date.now();
    underLoad.push(...(await Promise.all(probeSends)));
    await Promise.all(bgSends);
    log(
      `load: ${bg.accepted} background messages accepted in ${((loadEndMs - started) / 1000).toFixed(1)} s; waiting for the probes to arrive`,
    );
    await arrive(underLoad, 120_000);
    const loadRow = row(
      'load',
      `50 KB scans while ${o.rate} msg/s of other messages are sent`,
      underLoad,
      load,
    );
    const settleEnd = Date.now() + 120_000;
    while (arrivals.bgDelivered < bg.accepted && Date.now() < settleEnd) {
      stack.cluster.countDeliveries();
      await sleep(250);
    }
    background = {
      targetRate: o.rate,
      seconds: round((loadEndMs - started) / 1000),
      launched: bg.launched,
      launchedPerSecond: round(bg.launched / ((loadEndMs - started) / 1000), 1),
      accepted: bg.accepted,
      // over the time until the last background reply: replies held past the load's end count against the rate
      acceptedPerSecond: round(bg.accepted / ((Math.max(bg.lastReplyMs, loadEndMs) - started) / 1000), 1),
      delivered: arrivals.bgDelivered,
      refused: Object.fromEntries(bg.refused),
      maxInFlight: bg.inFlightMax,
      inFlightCap: BG_MAX_IN_FLIGHT,
      mailboxes: o.bgMailboxes,
      messageBytes: o.bgBytes,
      sandbox429: stack.refusals.get(429) ?? 0,
    };
    log(`background: ${JSON.stringify(background)}`);
    Object.assign(loadRow, { backgroundAcceptedPerSecond: background.acceptedPerSecond });

    // (c) cold paths
    const idleWait: Probe[] = [];
    for (let i = 0; i < o.idleWaits; i++) {
      log(`idle-wait ${i + 1}/${o.idleWaits}: ${o.idleSeconds} s without traffic`);
      await sleep(o.idleSeconds * 1000);
      if (i === 0) {
        load = loadAverage();
        loop.reset();
      }
      const p = await probe('idle-wait', COLD_MAILBOXES[i % 10] as string);
      await arrive([p], 60_000);
      idleWait.push(p);
    }
    if (idleWait.length)
      row('idle-wait', `the first scan after ${o.idleSeconds} s without traffic`, idleWait, load);

    const fresh: Probe[] = [];
    for (let i = 0; i < o.restarts; i++) {
      if (i === 0) {
        load = loadAverage();
        loop.reset();
      }
      log(`fresh-host ${i + 1}/${o.restarts}: restarting the function host`);
      const r0 = nowMs();
      await stack.cluster.restart('function');
      const restartMs = round(nowMs() - r0, 1) as number;
      const p = await probe('fresh-host', COLD_MAILBOXES[(i + 5) % 10] as string, { restartMs });
      await arrive([p], 60_000);
      fresh.push(p);
    }
    if (fresh.length)
      row('fresh-host', 'the first scan after the function host process was restarted', fresh, load);
  } finally {
    log('stopping');
    loop.disable();
    await stack.close();
  }

  const duplicates = probes.filter((p) => p.copies > 1).length;
  const md = report(command, rows, background, o, duplicates);
  if (!values['no-write']) {
    const written = writeResults('latency', {
      md,
      json: {
        command,
        rows,
        commit: gitCommit(),
        probeBytes: PROBE_BYTES,
        settings: o,
        background,
        // the chart input: one series per phase, every sample (ms)
        latency: rows
          .map((r) => ({
            label: `${r.phase}: ${r.what}`,
            samplesMs: probes.flatMap((p) =>
              p.phase === r.phase && p.latencyMs !== undefined ? [p.latencyMs] : [],
            ),
          }))
          .filter((series) => series.samplesMs.length > 0),
        histogramEdgesMs: 'le = bucket upper edge (ms); null = above the last edge',
        histograms: Object.fromEntries(
          rows.map((r): [string, HistogramBucket[]] => [
            r.phase,
            histogram(
              probes
                .filter((p) => p.phase === r.phase && p.latencyMs !== undefined)
                .map((p) => p.latencyMs as number),
            ),
          ]),
        ),
        samples: probes,
      },
    });
    log(`wrote ${written.mdPath} and ${written.jsonPath}`);
  }
  process.stdout.write(md);
  return duplicates > 0 || rows.some((r) => r.failed > 0) ? 1 : 0;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function report(
  command: string,
  rows: PhaseRow[],
  bg: Record<string, unknown>,
  o: { rate: number; bgMailboxes: number; idleSeconds: number; loadSeconds: number },
  duplicates: number,
): string {
  return [
    '# Latency a user feels: end of DATA → Graph request (issue 13)',
    '',
    `Command: \`${command}\` (bench/stack/latency.ts), commit ${gitCommit()}, ${new Date().toISOString()}.`,
    machineLine(),
    ...loadedMachineNote(rows.map((r) => r.load)),
    '',
    'The whole stack as `npm start` runs it (edge listener with its defaults, local function host on Azurite with',
    "the function's defaults, the Graph sandbox with Exchange's per-mailbox limits). A raw-socket SMTP client sends",
    "a 50 KB scan (text part + PDF-like base64 attachment) on a new connection; latency = the sandbox's arrival",
    'stamp of the Graph request that carries the message (sendMail, or createMessage of the draft that is then',
    'sent) − the moment the client wrote the final "." — both on this process\'s clock (the sandbox runs in it).',
    '"device reply" = end of DATA → the 250 the device waits for. "loop p99": this process\'s event-loop delay',
    'during the phase, the error bar of both stamps.',
    '',
    '| phase | what | n | p50 ms | p90 ms | p99 ms | max ms | device reply p50 / p99 ms | failed | loop p99 ms | load at start |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.phase} | ${r.what} | ${r.count} | ${ms(r.p50Ms)} | ${ms(r.p90Ms)} | ${ms(r.p99Ms)} | ${ms(r.maxMs)} | ${ms(r.replyP50Ms)} / ${ms(r.replyP99Ms)} | ${r.failed} | ${ms(r.harnessLoopDelayP99Ms)} | ${formatLoad(r.load)} |`,
    ),
    '',
    `Background under load: target ${o.rate} msg/s for ${o.loadSeconds} s, reached ${String(bg.acceptedPerSecond ?? '—')} msg/s accepted ` +
      `(${String(bg.accepted ?? '—')} accepted, ${String(bg.delivered ?? '—')} reached the sandbox; at most ${String(bg.inFlightCap ?? '—')} connections at once, ` +
      `from ${BG_ADDRESSES.length} client addresses, as the edge allows 100 per address). Senders: ${o.bgMailboxes} mailboxes in turn, so each sends one message ` +
      `every ${(o.bgMailboxes / o.rate).toFixed(1)} s — under Exchange's 30 a minute and 4 at once, which the function's pacer ` +
      'enforces; with one mailbox the load would measure the pacer (30 a minute), not the stack. Probes come from 10 mailboxes of their own. ' +
      `429 answers from the sandbox in the run: ${String(bg.sandbox429 ?? '—')}. Probes delivered twice: ${duplicates}.`,
    '',
    `Cold paths. **idle-wait**: the first scan after ${o.idleSeconds} s without traffic; every process stays up, idle`,
    'keep-alive connections (edge → function, function → storage and Graph) have closed, the token is still cached.',
    '**fresh-host**: the first scan after the local function host was restarted (SIGTERM, a new Node process, healthy',
    'on /api/health): it pays its first token request, first storage and Graph connections and the first run of the',
    'send path (JIT) — but its modules are loaded at start, before it reports healthy. Neither is an Azure Flex',
    'Consumption cold start, which adds allocating an instance, mounting the package and loading the modules',
    '(bench/function measures the module load of the deployed zip) and comes after minutes of idle, not seconds.',
    '',
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:latency: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);

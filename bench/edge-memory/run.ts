import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { buildEdgeBundle } from '../../edge-listener/packaging/build-bundle';
import { freePort } from '../../scripts/stack/readiness';
import { cpuSeconds, firstJsonLine, smtpSource, startProcess, waitForPort } from '../edge/processes';
import { benchEdgeEnv } from '../edge/targets';
import {
  currentCommand,
  formatLoad,
  type LoadAverage,
  loadAverage,
  machineLine,
  writeResults,
} from '../report/results-file';
import { median, procMemory, RssSampler, type RssSample } from './rss-sampler';
import { serviceLaunch } from './service-launch';

const HELP = `npm run bench:edge-memory [-- options]

The edge listener's memory as a site runs it: builds the single-file bundle (npm run build:edge), starts it
with the node flags and settings of the systemd unit (edge-listener/packaging/systemd), forwarding to a local
stand-in function (bench/edge/function-sink.ts), and reads VmRSS of the whole process (the forwarding thread
included) from /proc every 50 ms: idle after start, then while Postfix's smtp-source sends one 150 MB message
and the listener forwards it, then idle again. Writes bench/results/edge-memory.md and .json (the RSS time
series for the chart). Targets (issue 13): idle RSS <= 80 MiB, <= 100 MiB while the message streams through.

Environment:
  BENCH_QUICK=1          2 s idle and a 15 MB message (a smoke run of the harness; not written as results
                         unless --write)

Options:
  --bundle FILE          measure this bundle instead of building one (e.g. an older build, to compare)
  --node-flags "FLAGS"   node flags instead of the unit's ExecStart flags ("" for none)
  --env KEY=VALUE        an extra setting for the listener (repeatable), e.g. BRIDGE_FORWARD_THREAD=false
  --label TEXT           the row's name (default: the flags and extra settings)
  --idle-seconds N       idle time measured after start (default 5)
  --bytes N              message size (default 150000000)
  --no-write             print the table, do not write bench/results
  --write                write results even with BENCH_QUICK=1
  -h, --help             this text
`;

const MiB = 1024 * 1024;
const TARGET_IDLE = 80 * MiB;
const TARGET_STREAM = 100 * MiB;

interface Row {
  label: string;
  nodeFlags: string;
  settings: string;
  messageBytes: number;
  idleRssMiB: number;
  peakRssMiB: number;
  afterRssMiB: number;
  hwmMiB: number;
  dataSeconds: number;
  forwardSeconds: number;
  cpuMsMessage: number;
  load: LoadAverage;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bundle: { type: 'string' },
      'node-flags': { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      label: { type: 'string' },
      'idle-seconds': { type: 'string' },
      bytes: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const quick = process.env.BENCH_QUICK === '1';
  const idleMs = Number(values['idle-seconds'] ?? (quick ? 2 : 5)) * 1000;
  const bytes = Number(values.bytes ?? (quick ? 15_000_000 : 150_000_000));
  const launch = serviceLaunch();
  const nodeFlags =
    values['node-flags'] !== undefined ? values['node-flags'].split(/\s+/).filter(Boolean) : launch.nodeFlags;
  const extra = Object.fromEntries(
    values.env.map((kv) => {
      const at = kv.indexOf('=');
      if (at < 1) throw new Error(`--env wants KEY=VALUE: ${kv}`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
  const workDir = mkdtempSync(join(tmpdir(), 'bench-edge-memory-'));
  try {
    const bundle = values.bundle ?? (await buildEdgeBundle(join(workDir, 'edge-listener.cjs'))).outfile;
    const settings = Object.entries(extra)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const label = values.label ?? `as the service starts it${settings ? ` (+ ${settings})` : ''}`;
    // Two starts on one data directory: the first makes the TLS certificate (a site's first start), the
    // second finds it on disk and recovers the spool (every later start: reboots, updates, restarts).
    const dataDir = mkdtempSync(join(workDir, 'data-'));
    const rows: Row[] = [];
    const memorySeries: unknown[] = [];
    for (const start of ['first start', 'restart'] as const) {
      console.error(`edge-memory: ${start}`);
      const { row, samples } = await measure({
        bundle,
        nodeFlags,
        env: { ...launch.env, ...extra },
        workDir,
        dataDir,
        idleMs,
        bytes,
      });
      rows.push({ label: `${label}, ${start}`, nodeFlags: nodeFlags.join(' '), settings, ...row });
      memorySeries.push({
        label: `${start}: idle, then one ${(bytes / 1e6).toFixed(0)} MB message`,
        messageBytes: bytes,
        samples: samples.map((x) => ({ tMs: x.tMs, rssBytes: x.rssBytes, phase: x.phase })),
      });
    }
    const md = report(rows, launch.env);
    process.stdout.write(md);
    if (values['no-write'] || (quick && !values.write)) return;
    const { mdPath } = writeResults('edge-memory', {
      md,
      json: {
        command: currentCommand('tsx bench/edge-memory/run.ts'),
        rows,
        memorySeries,
        limits: [
          { label: 'idle target 80 MiB', bytes: TARGET_IDLE },
          { label: 'streaming target 100 MiB', bytes: TARGET_STREAM },
        ],
      },
    });
    console.error(`wrote ${mdPath}`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function measure(o: {
  bundle: string;
  nodeFlags: string[];
  env: Record<string, string>;
  workDir: string;
  dataDir: string;
  idleMs: number;
  bytes: number;
}): Promise<{ row: Omit<Row, 'label' | 'nodeFlags' | 'settings'>; samples: RssSample[] }> {
  const load = loadAverage();
  const tsx = ['--import', 'tsx'];
  const sink = startProcess(process.execPath, [...tsx, join(__dirname, '..', 'edge', 'function-sink.ts')]);
  const { port: sinkPort } = (await firstJsonLine(sink.child)) as { port: number };
  const dataDir = o.dataDir;
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const edge = startProcess('node', [...o.nodeFlags, o.bundle, 'start'], {
    env: {
      ...benchEdgeEnv({ sinkPort, dataDir, smtpPort, httpPort }),
      // The Dockerfile's; the systemd unit's own Environment= lines come in o.env.
      NODE_ENV: 'production',
      ...o.env,
    },
    logFile: join(o.workDir, 'edge.log'),
  });
  const sampler = new RssSampler(edge.pid);
  try {
    await waitForPort(smtpPort);
    await waitForPort(httpPort);
    sampler.phase = 'idle';
    await sleep(o.idleMs);
    const idle = sampler.of('idle');
    sampler.phase = 'message';
    const cpu0 = cpuSeconds(edge.pid);
    const t0 = Date.now();
    const run = await smtpSource(smtpPort, 1, 1, o.bytes);
    if (run.errors) throw new Error(`the message failed: ${run.errors}`);
    await forwarded(httpPort);
    const forwardSeconds = (Date.now() - t0) / 1000;
    const cpuMsMessage = (cpuSeconds(edge.pid) - cpu0) * 1000;
    const peak = Math.max(...sampler.of('message'));
    sampler.phase = 'after';
    await sleep(Math.min(o.idleMs, 3000));
    const { hwmBytes } = procMemory(edge.pid);
    const after = median(sampler.of('after'));
    const mib = (b: number) => Math.round((b / MiB) * 10) / 10;
    return {
      row: {
        messageBytes: o.bytes,
        idleRssMiB: mib(median(idle)),
        peakRssMiB: mib(Math.max(peak, ...sampler.of('after'))),
        afterRssMiB: mib(after),
        hwmMiB: mib(hwmBytes),
        dataSeconds: Math.round(run.seconds * 100) / 100,
        forwardSeconds: Math.round(forwardSeconds * 100) / 100,
        cpuMsMessage: Math.round(cpuMsMessage),
        load,
      },
      samples: sampler.samples,
    };
  } finally {
    sampler.stop();
    await edge.stop();
    await sink.stop();
  }
}

/** Waits until the listener has forwarded the message and the stand-in function answered "sent". */
async function forwarded(httpPort: number, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    if (/^bridge_edge_forward_outcomes_total\{outcome="sent"\} [1-9]/m.test(text)) return;
    if (Date.now() > end) throw new Error('the message was not forwarded in time');
    await sleep(250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function report(rows: Row[], unitEnv: Record<string, string>): string {
  const ok = (v: number, limit: number) => (v * MiB <= limit ? 'met' : 'over');
  const unitSettings = Object.entries(unitEnv).map(([k, v]) => `${k}=${v}`);
  return [
    '# Edge listener memory: idle and one large message',
    '',
    `Command: \`${currentCommand('tsx bench/edge-memory/run.ts')}\` (bench/edge-memory/run.ts).`,
    machineLine(),
    '',
    'The single-file build started as the systemd unit starts it (ExecStart node flags, Environment=:',
    `${unitSettings.map((x) => `\`${x}\``).join(', ') || 'none'}), forwarding to a local stand-in function`,
    '(bench/edge/function-sink.ts); Postfix smtp-source sends the message. RSS is VmRSS of the whole process',
    '(the forwarding thread included) from /proc every 50 ms. idle = median over the idle window after start;',
    'peak = highest sample from the first byte of DATA until the function answered "sent" and 3 s after; VmHWM =',
    "the kernel's high-water mark at the end (start-up included). CPU = user+system of the listener for the",
    'message (receive, spool, hash, forward). "first start" makes the TLS certificate; "restart" is the same data',
    'directory started again (certificate on disk, spool recovered), as after every reboot or update.',
    '',
    '| run | node flags | idle RSS | peak RSS (message) | RSS after | VmHWM | DATA | until sent | CPU | load |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.nodeFlags || '(none)'} | ${r.idleRssMiB} MiB (${ok(r.idleRssMiB, TARGET_IDLE)}) | ${r.peakRssMiB} MiB (${ok(r.peakRssMiB, TARGET_STREAM)}) | ${r.afterRssMiB} MiB | ${r.hwmMiB} MiB | ${r.dataSeconds} s | ${r.forwardSeconds} s | ${r.cpuMsMessage} ms | ${formatLoad(r.load)} |`,
    ),
    '',
    `Message: ${(rows[0]!.messageBytes / 1e6).toFixed(0)} MB. Targets (issue 13): idle <= 80 MiB, <= 100 MiB while the message streams through.`,
    'Where the memory goes and what was changed: docs/design/edge-memory.md.',
    '',
  ].join('\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

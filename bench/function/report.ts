import { cpus, release, totalmem } from 'node:os';

import { formatLoad, type LoadAverage, loadedMachineNote } from '../report/results-file';
import type { InvocationResult, MessageResult } from './bench-protocol';
import type { LoadTiming } from './module-load';
import { median } from './module-load';

/** Everything measured for one message size. */
export interface SizeResult {
  label: string;
  mimeBytes: number;
  pdfBytes: number;
  /** The one message measured with the samplers on. */
  memoryRun: MessageResult;
  /** Messages measured for CPU (no samplers). */
  cpuRuns: MessageResult[];
  /** Graph requests and request bytes the fake Graph recorded for the memory run's message. */
  fake: { calls: number; bytes: number; routes: Record<string, number> };
  /** Every attachment that reached the fake Graph had the PDF's SHA-256 (all runs). */
  byteExact: boolean;
  /** Load average when this size's first measurement started. */
  load: LoadAverage;
}

const MB = 1_000_000;
const mb = (n: number) => (n / MB).toFixed(1);
const ms = (us: number) => (us / 1000).toFixed(0);
const cpuUs = (i: InvocationResult) => i.cpuUserUs + i.cpuSystemUs;

function sizeText(bytes: number): string {
  return bytes >= MB ? `${mb(bytes)} MB` : `${(bytes / 1000).toFixed(0)} KB`;
}

function pathOf(r: MessageResult): string {
  const queued = r.invocations.some((i) => i.fn === 'sendQueued');
  const report = r.reports[0];
  const graph = report
    ? report.path === 'sendMail'
      ? 'one sendMail'
      : 'draft + upload session'
    : 'not sent';
  return `${queued ? 'HTTP 202 → queue trigger' : `HTTP ${r.invocations[0]?.status ?? '?'}`}, ${graph}`;
}

function peakRssDelta(i: InvocationResult): number {
  return i.memory ? i.memory.peak.rss - i.memory.baseline.rss : 0;
}

function messageCpuUs(r: MessageResult): number {
  return r.invocations.reduce((sum, i) => sum + cpuUs(i), 0);
}

function summaryRow(s: SizeResult): string {
  const cpu = median(s.cpuRuns.map(messageCpuUs));
  const peak = Math.max(...s.memoryRun.invocations.map(peakRssDelta));
  const report = s.memoryRun.reports[0];
  return [
    `${s.label} (${s.mimeBytes} B, PDF ${sizeText(s.pdfBytes)})`,
    pathOf(s.memoryRun),
    `${ms(cpu)} (n=${s.cpuRuns.length})`,
    `${mb(peak)} MB`,
    `${(peak / s.mimeBytes).toFixed(2)}×`,
    `${report?.graphCalls ?? '–'} / ${s.fake.calls}`,
    `${report ? mb(report.bytesSent) : '–'} / ${mb(s.fake.bytes)} MB`,
    s.byteExact ? 'yes' : '**NO**',
    formatLoad(s.load),
  ].join(' | ');
}

function invocationRows(s: SizeResult): string[] {
  return s.memoryRun.invocations.map((i) => {
    const m = i.memory;
    const d = (k: 'heapUsed' | 'external' | 'arrayBuffers') => (m ? mb(m.peak[k] - m.baseline[k]) : '–');
    const cpuMedian = median(
      s.cpuRuns
        .map((r) => r.invocations.find((x) => x.fn === i.fn))
        .filter((x) => x !== undefined)
        .map(cpuUs),
    );
    return [
      s.label,
      i.fn,
      String(i.status ?? '–'),
      i.wallMs.toFixed(0),
      ms(cpuMedian),
      m ? mb(m.baseline.rss) : '–',
      `${mb(peakRssDelta(i))}`,
      d('heapUsed'),
      d('external'),
      d('arrayBuffers'),
    ].join(' | ');
  });
}

/** Where the memory goes: the highest level each phase of an invocation reached, above its idle baseline. */
function phaseRows(s: SizeResult): string[] {
  return s.memoryRun.invocations.flatMap((i) => {
    const m = i.memory;
    if (!m) return [];
    // A phase too short for a sample has no RSS figure (0): shown as '–'.
    const cells = m.phases.map(
      (p) =>
        `${p.name}: ${p.rss > 0 ? mb(p.rss - m.baseline.rss) : '–'} / ${mb(p.arrayBuffers - m.baseline.arrayBuffers)}`,
    );
    return [`| ${s.label} | ${i.fn} | ${cells.join(' → ')} |`];
  });
}

export function machineInfo(): string {
  const cpu = cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}, ${process.platform} ${release()}`,
  ].join('\n');
}

export function renderReport(opts: {
  command: string;
  date: Date;
  sizes: SizeResult[];
  loads: LoadTiming[];
  /** Load average when the module load measurements started. */
  moduleLoadStart?: LoadAverage;
  rssSource: string;
}): string {
  const lines = [
    '# Function app benchmark',
    '',
    `Command: \`${opts.command}\` (${opts.date.toISOString()})`,
    '',
    machineInfo(),
    ...loadedMachineNote([
      ...opts.sizes.map((s) => s.load),
      ...(opts.moduleLoadStart ? [opts.moduleLoadStart] : []),
    ]),
    '',
    'Each message is a scan: a short text part and one PDF of random bytes in base64. It is posted through the',
    'real HTTP handler (`new HttpRequest` with a streamed body in 64 KiB chunks, `new InvocationContext`) against',
    'Azurite and the Graph sandbox over HTTPS; a message over the sync limit (3 MiB) is answered 202 and then',
    'sent by the real queue trigger. Each size runs in fresh child processes (compiled JavaScript,',
    '`--expose-gc`), after a warm-up of both paths with a small message: one message with the memory',
    'samplers on (its HTTP intake and its queue trigger in separate processes, as separate invocations may',
    'run on separate instances), then several without samplers for CPU time (`process.cpuUsage` around each',
    'handler call; median per message).',
    `Peak RSS is measured from the idle baseline (after two full GCs) before each invocation (source: ${opts.rssSource});`,
    "heap/external/arrayBuffers are 1 ms samples on the main thread. A message's peak is its larger invocation.",
    'Decoded attachments over 1 MiB live in resizable ArrayBuffers, which Node does not count in external or',
    'arrayBuffers: RSS is the figure that includes everything.',
    '',
    '## Per message',
    '',
    '| message | path | CPU ms | peak RSS above idle | × message size | Graph calls (report / fake) | bytes sent (report / fake) | byte-exact at Graph | load at start |',
    '|---|---|---|---|---|---|---|---|---|',
    ...opts.sizes.map((s) => `| ${summaryRow(s)} |`),
    '',
    '## Per invocation (memory run; CPU is the median of the CPU runs)',
    '',
    '| message | invocation | status | wall ms | CPU ms | idle RSS MB | peak RSS Δ MB | heapUsed Δ MB | external Δ MB | arrayBuffers Δ MB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...opts.sizes.flatMap((s) => invocationRows(s).map((r) => `| ${r} |`)),
    '',
    '## Where the memory goes (per phase: sampled peak RSS Δ / arrayBuffers Δ, MB above idle)',
    '',
    '| message | invocation | phases in order |',
    '|---|---|---|',
    ...opts.sizes.flatMap(phaseRows),
    '',
    '## Graph requests per message (fake Graph log)',
    '',
    ...opts.sizes.map(
      (s) =>
        `- ${s.label}: ${Object.entries(s.fake.routes)
          .map(([route, n]) => `${route} ×${n}`)
          .join(', ')}`,
    ),
    '',
    '## Module load time (fresh process, `require` of the entry; median)',
    '',
    '| entry | median ms | median CPU ms | runs ms | load at start |',
    '|---|---|---|---|---|',
    ...opts.loads.map(
      (l) =>
        `| ${l.label} | ${l.medianMs.toFixed(0)} | ${l.cpuMedianMs.toFixed(0)} | ${l.runs.map((r) => r.toFixed(0)).join(', ')} | ${opts.moduleLoadStart ? formatLoad(opts.moduleLoadStart) : '–'} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/**
 * function.json's rows (bench/report/result-shapes.ts, "function"): one per message size, then one per module
 * load entry, with the figures of the tables above unrounded.
 */
export function resultRows(opts: { sizes: SizeResult[]; loads: LoadTiming[]; moduleLoadStart: LoadAverage }) {
  const messages = opts.sizes.map((s) => {
    const peak = Math.max(...s.memoryRun.invocations.map(peakRssDelta));
    const report = s.memoryRun.reports[0];
    return {
      kind: 'message' as const,
      label: s.label,
      mimeBytes: s.mimeBytes,
      pdfBytes: s.pdfBytes,
      path: pathOf(s.memoryRun),
      cpuMs: median(s.cpuRuns.map(messageCpuUs)) / 1000,
      cpuRuns: s.cpuRuns.length,
      peakRssAboveIdleBytes: peak,
      peakTimesMessage: peak / s.mimeBytes,
      graphCalls: s.fake.calls,
      graphBytes: s.fake.bytes,
      reportedBytesSent: report?.bytesSent ?? null,
      byteExact: s.byteExact,
      load: s.load,
    };
  });
  const loads = opts.loads.map((l) => ({
    kind: 'module-load' as const,
    label: l.label,
    medianMs: l.medianMs,
    runsMs: l.runs,
    load: opts.moduleLoadStart,
  }));
  return [...messages, ...loads];
}

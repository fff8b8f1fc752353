import type { BurstResult } from './burst';
import type { MachineInfo, ResultsJson } from '../report/results-file';

/** bench/results/burst.md and burst.json (the results-file contract of issue 13). */
export interface BurstReportInput {
  command: string;
  machine: MachineInfo;
  result: BurstResult;
  /** A note under the title (e.g. that this was a development run on a loaded machine). */
  note?: string;
}

const s = (ms: number | null) => (ms === null ? '—' : (ms / 1000).toFixed(1));

export function burstJson(i: BurstReportInput): ResultsJson<Omit<BurstResult, 'timeline'>> {
  const { timeline, ...row } = i.result;
  return {
    name: 'burst',
    command: i.command,
    generatedAt: new Date().toISOString(),
    machine: i.machine,
    ...(i.note ? { note: i.note } : {}),
    rows: [row],
    /** Per scan: ms after the burst started when it got its 250 and when the sandbox accepted it. */
    timeline,
  };
}

export function burstMarkdown(i: BurstReportInput): string {
  const r = i.result;
  const m = i.machine;
  const lines = [
    `# Burst: ${r.scans} scans from one copier`,
    '',
    `Command: \`${i.command}\` (${r.startedAt})`,
    '',
    `Machine: Node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB`,
    '',
    ...(i.note ? [`> ${i.note}`, ''] : []),
    `${r.scans} scans of ${(r.scanBytes / 1024).toFixed(0)} KiB (a text part and a PDF-like attachment) from one`,
    `copier (one client address, sender ${'`scanner@contoso.com`'}) over ${r.connections} SMTP connections at once, through`,
    'the edge listener, the local function host (product defaults) and Azurite to the Graph sandbox, which',
    `enforces Exchange's per-mailbox limits: ${r.limits.concurrency} concurrent requests, ${r.limits.perMinute} messages a minute (429 with`,
    'Retry-After beyond them). Edge reply hold as run: ' +
      Object.entries(r.edgeReplyHold)
        .map(([k, v]) => `\`${k}=${String(v)}\``)
        .join(', ') +
      '.',
    '',
    '| load at start (1/5/15) | accepted | all 250s (s) | p50 250 (s) | drained (s) | minimum (s) | window bound (s) | drain ÷ minimum | 429s (concurrency / rate) | sent once | duplicates | missing |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|',
    `| ${r.load.join(' / ')} | ${r.accepted}/${r.scans} | ${s(r.acceptAllMs)} | ${s(r.acceptP50Ms)} | ${s(r.drainMs)} | ${s(r.minimumDrainMs)} | ${s(r.windowBoundMs)} | ${r.drainVsMinimum ?? '—'} | **${r.throttles.total}** (${r.throttles.concurrency} / ${r.throttles.rate}) | ${r.deliveredOnce} | ${r.duplicates} | ${r.missing} |`,
    '',
    `- minimum = scans ÷ ${r.limits.perMinute} per minute (the issue's theoretical minimum); the window bound is the earliest the`,
    `  last scan can go under a sliding minute (a first minute's worth at once): (⌈scans ÷ ${r.limits.perMinute}⌉ − 1) minutes.`,
    `- Graph sendMail requests for the sender: ${r.graphRequests}; function log: ` +
      Object.entries(r.functionEvents)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') +
      (r.timedOut ? '. **Timed out before every scan was in the sandbox.**' : '.'),
    '- Per-scan timeline (accepted at, sent at, ms after the first connection): `timeline` in burst.json.',
    '',
  ];
  return lines.join('\n');
}

/** One line per result for the terminal. */
export function burstSummary(r: BurstResult): string {
  return [
    `accepted ${r.accepted}/${r.scans}, all 250s after ${s(r.acceptAllMs)} s (p50 ${s(r.acceptP50Ms)} s)`,
    `drained after ${s(r.drainMs)} s; minimum ${s(r.minimumDrainMs)} s (window bound ${s(r.windowBoundMs)} s); drain ÷ minimum ${r.drainVsMinimum ?? '—'}`,
    `throttling answers (429) ${r.throttles.total} (concurrency ${r.throttles.concurrency}, rate ${r.throttles.rate})`,
    `sent exactly once ${r.deliveredOnce}, duplicates ${r.duplicates}, missing ${r.missing}${r.timedOut ? ' (TIMED OUT)' : ''}`,
    '',
  ].join('\n');
}

import { parseArgs } from 'node:util';

import { runBurst, type BurstResult } from './burst';
import { burstJson, burstMarkdown, burstSummary } from './report';
import { machineInfo, writeResults } from '../report/results-file';

const HELP = `Usage: npm run bench:burst -- [options]

100 scans from one copier in one go (issue 13, "Burst"): the whole stack (edge listener, local function host
with the product's defaults, Azurite) against the Graph sandbox enforcing Exchange's per-mailbox limits
(4 concurrent requests, 30 messages a minute; 429 with Retry-After beyond them). Measures when every scan got
its 250, when the sandbox had every scan exactly once, the drain time against the theoretical minimum
(scans / 30 per minute) and how many throttling answers (429) the bridge provoked (target 0).
Writes bench/results/burst.md and burst.json (with a per-scan timeline). About 4 minutes.

Exit code 1 when a scan was lost or sent twice, or the sandbox throttled; 0 otherwise.

Options:
  --quick              40 scans (one minute's window and a bit: minimum 80 s); writes nothing unless --write
  --scans <n>          scans in the burst (default 100)
  --scan-kb <n>        size of each scan's MIME in KiB (default 200)
  --connections <n>    SMTP connections the copier uses at once (default 4)
  --timeout <s>        longest wait for the drain (default: 3 × the minimum + 120 s)
  --write / --no-write write bench/results/burst.{md,json} (default: yes, except --quick)
  --note <text>        a line under the title of burst.md (e.g. "development run on a loaded machine")
  --work-dir <dir>     keep the processes' logs and data here (default: a temporary directory, removed)
  --help               this text

Progress goes to stderr every 5 s: accepted n/N, sent n/N, throttles.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      scans: { type: 'string' },
      'scan-kb': { type: 'string' },
      connections: { type: 'string' },
      timeout: { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      note: { type: 'string' },
      'work-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const int = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
    return n;
  };
  const limits = { concurrency: 4, perMinute: 30 };
  const scans = int('scans', values.scans, values.quick ? 40 : 100);
  const minimumS = (scans / limits.perMinute) * 60;
  const write = values['no-write'] ? false : (values.write ?? !values.quick);
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      process.stderr.write(`[burst] ${sig}: stopping, reporting what was measured\n`);
      stop.abort();
    });
  const result: BurstResult = await runBurst({
    scans,
    scanBytes: int('scan-kb', values['scan-kb'], 200) * 1024,
    connections: int('connections', values.connections, 4),
    limits,
    timeoutMs: int('timeout', values.timeout, Math.ceil(minimumS * 3 + 120)) * 1000,
    progressEveryMs: 5000,
    ...(values['work-dir'] ? { workDir: values['work-dir'] } : {}),
    log: (line) => process.stderr.write(`[burst] ${line}\n`),
    signal: stop.signal,
  });
  process.stdout.write(burstSummary(result));
  if (write) {
    const input = {
      command: ['npm run bench:burst', ...(argv.length ? ['--', ...argv.map(shellWord)] : [])].join(' '),
      machine: machineInfo(),
      result,
      ...(values.note ? { note: values.note } : {}),
    };
    const written = writeResults('burst', { md: burstMarkdown(input), json: burstJson(input) });
    for (const file of [written.mdPath, written.jsonPath]) process.stdout.write(`wrote ${file}\n`);
  }
  return result.missing > 0 || result.duplicates > 0 || result.throttles.total > 0 || result.timedOut ? 1 : 0;
}

/** An argument as a shell would need it to be typed again. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:burst: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);

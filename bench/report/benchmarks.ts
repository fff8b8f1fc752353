/**
 * Every benchmark `npm run bench` runs, in order, by its npm script (each owner keeps its script in package.json;
 * a script missing from package.json is reported as "not present", never skipped silently). `quick` is how that
 * benchmark takes its quick mode: they differ, so each is spelled out here (checked against each --help).
 */
export interface Benchmark {
  /** Short name for --only and the summary. */
  name: string;
  /** The npm script that runs it. */
  script: string;
  /** What it measures, one line (the --help and bench/results/README.md). */
  what: string;
  /** Result file stems it writes in bench/results/. */
  results: string[];
  quick: { env?: Record<string, string>; args?: string[] };
}

const QUICK_ENV = { BENCH_QUICK: '1' };

export const BENCHMARKS: Benchmark[] = [
  {
    name: 'edge',
    script: 'bench:edge',
    what: 'edge intake msg/s and CPU ms/msg per scenario against Postfix smtpd and smtp-server; RSS for 150 MB',
    results: ['edge'],
    quick: { env: QUICK_ENV },
  },
  {
    name: 'function',
    script: 'bench:function',
    what: 'function app CPU, peak memory, Graph calls per scan size; module load time',
    results: ['function'],
    // No quick mode of its own: fewer sizes and repetitions (BENCH_QUICK too, should it learn one).
    quick: { env: QUICK_ENV, args: ['--sizes=50000,3000000', '--cpu-runs=1', '--load-runs=3'] },
  },
  {
    name: 'stack',
    script: 'bench:stack',
    what: 'whole stack (edge + function host + Azurite + Graph sandbox) msg/s against a bare smtp-server',
    results: ['stack'],
    quick: { env: QUICK_ENV },
  },
  {
    name: 'latency',
    script: 'bench:latency',
    what: 'end of DATA to the Graph request, 50 KB: idle, under 100 msg/s, after idle, on a fresh host',
    results: ['latency'],
    quick: { env: QUICK_ENV },
  },
  {
    name: 'burst',
    script: 'bench:burst',
    what: "100 scans from one copier: accepted at SMTP speed, drained at Exchange's pace, 0 throttling answers",
    results: ['burst'],
    quick: { env: QUICK_ENV, args: ['--quick'] },
  },
  {
    name: 'edge-memory',
    script: 'bench:edge-memory',
    what: 'edge RSS of the single-file build as the service starts it: idle and through one 150 MB message',
    results: ['edge-memory'],
    quick: { env: QUICK_ENV },
  },
];

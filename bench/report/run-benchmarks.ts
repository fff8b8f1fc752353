import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { Benchmark } from './benchmarks';
import { type ChartsOutcome, makeCharts } from './make-charts';
import { formatLoad, loadAverage } from './results-file';

export type Outcome =
  | { status: 'ok'; seconds: number; wrote: string[] }
  | { status: 'failed'; seconds: number; wrote: string[]; exit: string }
  | { status: 'not present' };

export interface RunAllResult {
  outcomes: Array<{ bench: Benchmark; outcome: Outcome }>;
  charts: ChartsOutcome;
  /** The closing line: what ran, and by name everything that did not. */
  summary: string;
  ok: boolean;
}

/** The scripts of the package.json at root (the merged tree decides which benchmarks exist). */
export function npmScripts(root: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  return pkg.scripts ?? {};
}

/** The result files in dir and their modification times. */
function resultFiles(dir: string): Map<string, number> {
  if (!existsSync(dir)) return new Map();
  return new Map(
    readdirSync(dir)
      .filter((f) => /\.(md|json)$/.test(f))
      .map((f) => [f, statSync(join(dir, f)).mtimeMs]),
  );
}

/** Files new or modified since the `before` snapshot (what a benchmark wrote). */
function writtenSince(dir: string, before: Map<string, number>): string[] {
  return [...resultFiles(dir)]
    .filter(([f, mtime]) => before.get(f) !== mtime)
    .map(([f]) => f)
    .sort();
}

/** npm as this process was started by it (npm_execpath), else the npm on PATH. */
function npmCommand(): { file: string; prefix: string[] } {
  const cli = process.env.npm_execpath;
  return cli && /\.c?js$/.test(cli) ? { file: process.execPath, prefix: [cli] } : { file: 'npm', prefix: [] };
}

/** Copies a stream to out line by line, each line prefixed (a benchmark's per-row progress, labelled). */
function forwardLines(stream: NodeJS.ReadableStream, prefix: string, out: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) out(`${prefix}${line}`);
  });
  stream.on('end', () => {
    if (rest) out(`${prefix}${rest}`);
  });
}

function runScript(
  root: string,
  bench: Benchmark,
  quick: boolean,
  print: (line: string) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const npm = npmCommand();
  const args = quick ? (bench.quick.args ?? []) : [];
  const child = spawn(
    npm.file,
    [...npm.prefix, 'run', '--silent', bench.script, ...(args.length ? ['--', ...args] : [])],
    {
      cwd: root,
      env: { ...process.env, ...(quick ? bench.quick.env : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const prefix = `  [${bench.name}] `;
  forwardLines(child.stdout, prefix, print);
  forwardLines(child.stderr, prefix, print);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Runs the benchmarks one after another (never two at once: they measure the same cores), each as a child process
 * by its npm script, then draws the charts from whatever result files exist. A failing benchmark does not stop the
 * ones after it; everything that did not run is named in the closing line.
 */
export async function runAll(opts: {
  root: string;
  benchmarks: Benchmark[];
  quick: boolean;
  print?: (line: string) => void;
}): Promise<RunAllResult> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const scripts = npmScripts(opts.root);
  const resultsDir = join(opts.root, 'bench', 'results');
  const outcomes: RunAllResult['outcomes'] = [];
  const total = opts.benchmarks.length;
  for (const [i, bench] of opts.benchmarks.entries()) {
    const step = `[${i + 1}/${total}] ${bench.name}`;
    if (!scripts[bench.script]) {
      print(`${step}: not present (no "${bench.script}" script in package.json)`);
      outcomes.push({ bench, outcome: { status: 'not present' } });
      continue;
    }
    const quickText =
      opts.quick && (bench.quick.env || bench.quick.args)
        ? ` (quick: ${[...Object.entries(bench.quick.env ?? {}).map(([k, v]) => `${k}=${v}`), ...(bench.quick.args ?? [])].join(' ')})`
        : '';
    print(`${step}: npm run ${bench.script}${quickText}, load ${formatLoad(loadAverage())} at start`);
    const started = Date.now();
    const before = resultFiles(resultsDir);
    const { code, signal } = await runScript(opts.root, bench, opts.quick, print);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const wrote = writtenSince(resultsDir, before);
    const wroteText = wrote.length ? `wrote ${wrote.join(', ')}` : 'wrote no result file';
    if (code === 0) {
      print(`${step}: done in ${seconds} s, ${wroteText}`);
      outcomes.push({ bench, outcome: { status: 'ok', seconds, wrote } });
    } else {
      const exit = signal ? `signal ${signal}` : `exit code ${code}`;
      print(`${step}: FAILED (${exit}) after ${seconds} s, ${wroteText}`);
      outcomes.push({ bench, outcome: { status: 'failed', seconds, wrote, exit } });
    }
  }

  print('charts: drawing from bench/results/*.json');
  const charts = makeCharts(resultsDir);
  for (const w of charts.written) print(`  chart ${w.svg}: drawn from ${w.from}`);
  for (const m of charts.missing) print(`  chart ${m.svg}: NOT drawn (${m.reasons.join('; ')})`);

  print('');
  print('| benchmark | npm script | outcome | seconds | result files written |');
  print('|---|---|---|---:|---|');
  for (const { bench, outcome } of outcomes) {
    const status = outcome.status === 'failed' ? `FAILED (${outcome.exit})` : outcome.status;
    const seconds = outcome.status === 'not present' ? '' : String(outcome.seconds);
    const wrote = outcome.status === 'not present' ? '' : outcome.wrote.join(', ');
    print(`| ${bench.name} | ${bench.script} | ${status} | ${seconds} | ${wrote} |`);
  }
  const named = (status: Outcome['status']) =>
    outcomes.filter((o) => o.outcome.status === status).map((o) => o.bench.name);
  const ran = named('ok');
  const failed = named('failed');
  const absent = named('not present');
  const parts = [`bench: ${ran.length} of ${total} ran`];
  if (failed.length) parts.push(`failed: ${failed.join(', ')}`);
  if (absent.length) parts.push(`not present: ${absent.join(', ')}`);
  parts.push(
    `charts: ${charts.written.length} drawn${charts.missing.length ? `, not drawn: ${charts.missing.map((m) => m.svg).join(', ')}` : ''}`,
  );
  const summary = parts.join('; ');
  print(summary);
  return { outcomes, charts, summary, ok: failed.length === 0 && absent.length === 0 };
}

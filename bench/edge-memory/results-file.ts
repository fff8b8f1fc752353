import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

/**
 * A copy of bench/report/results-file.ts from the bench-report branch (same exports), so this benchmark writes
 * the results-file contract before that branch is merged; the merge replaces this file with an import of it.
 *
 * The one writer of bench/results/<name>.md and <name>.json (the results-file contract in bench/results/README.md):
 * every benchmark records the command that made it, the machine, and per row the load average when the row started,
 * because on a shared machine the load explains more of a msg/s figure than the code does.
 */

/** The machine a result was measured on. */
export interface MachineInfo {
  /** `process.version`, e.g. "v20.19.1". */
  node: string;
  cpus: number;
  cpuModel: string;
  /** Total memory in GiB, one decimal. */
  memGiB: number;
}

/** The 1, 5 and 15-minute load averages, rounded to 2 decimals. */
export type LoadAverage = [number, number, number];

/** The `.json` half of a result: rows carry their own fields plus `load`; `extra` keys sit beside `rows`. */
export interface ResultsJson<Row extends object = Record<string, unknown>> {
  name: string;
  /** How to reproduce the file, e.g. "npm run bench:edge" (with the flags and BENCH_QUICK=1 when used). */
  command: string;
  /** ISO 8601 UTC. */
  generatedAt: string;
  machine: MachineInfo;
  rows: Array<Row & { load: LoadAverage }>;
  [extra: string]: unknown;
}

/** What a benchmark passes to {@link writeResults}; name, generatedAt and machine are filled in when missing. */
export interface ResultsInput<Row extends object = Record<string, unknown>> {
  md: string;
  json: {
    command: string;
    rows: Array<Row & { load: LoadAverage }>;
    name?: string;
    generatedAt?: string;
    machine?: MachineInfo;
    [extra: string]: unknown;
  };
}

export const RESULTS_DIR = join(__dirname, '..', 'results');

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  };
}

export function loadAverage(): LoadAverage {
  const [a = 0, b = 0, c = 0] = loadavg();
  const r = (x: number) => Math.round(x * 100) / 100;
  return [r(a), r(b), r(c)];
}

/** "0.52 0.61 0.70", the way a load average reads in a table cell. */
export function formatLoad(load: LoadAverage): string {
  return load.map((x) => x.toFixed(2)).join(' ');
}

/** The machine line every .md opens with (after its title and command). */
export function machineLine(m: MachineInfo = machineInfo()): string {
  return `Machine: Node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ${m.memGiB} GiB memory.`;
}

/**
 * The command line that reproduces this process's run: `npm run <script>` when started by npm, else the script
 * path; with the arguments and BENCH_QUICK=1 when set.
 */
export function currentCommand(fallbackScript: string): string {
  const script = process.env.npm_lifecycle_event;
  const base = script ? `npm run ${script}` : fallbackScript;
  const args = process.argv.slice(2);
  const quick = process.env.BENCH_QUICK === '1' ? 'BENCH_QUICK=1 ' : '';
  return `${quick}${base}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
}

/** The JSON text exactly as prettier leaves it (2 spaces, trailing newline). */
export function resultsJsonText(json: ResultsJson): string {
  return JSON.stringify(json, null, 2) + '\n';
}

/**
 * Writes <dir>/<name>.md and <dir>/<name>.json (dir defaults to bench/results); returns the two paths.
 * The name must be a plain file stem: results are an index people browse, not a tree.
 */
export function writeResults<Row extends object>(
  name: string,
  input: ResultsInput<Row>,
  dir: string = RESULTS_DIR,
): { mdPath: string; jsonPath: string; json: ResultsJson<Row> } {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name))
    throw new Error(`results name must be a plain file stem: ${name}`);
  const { name: givenName, command, generatedAt, machine, rows, ...extra } = input.json;
  // Fixed key order at the top so diffs between runs stay readable; extra keys follow the rows.
  const json: ResultsJson<Row> = {
    name: givenName ?? name,
    command,
    generatedAt: generatedAt ?? new Date().toISOString(),
    machine: machine ?? machineInfo(),
    rows,
    ...extra,
  };
  mkdirSync(dir, { recursive: true });
  const mdPath = join(dir, `${name}.md`);
  const jsonPath = join(dir, `${name}.json`);
  writeFileSync(mdPath, input.md.endsWith('\n') ? input.md : input.md + '\n');
  writeFileSync(jsonPath, resultsJsonText(json as ResultsJson));
  return { mdPath, jsonPath, json };
}

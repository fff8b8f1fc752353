import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for bench/report/results-file.ts (the shared writer of the results-file contract, made on
 * another branch): the same three functions with the same shapes, so the merge swaps the import and deletes
 * this file. bench/results/<name>.md and <name>.json: the command, the machine, per row the load average
 * when the row started.
 */

export interface MachineInfo {
  node: string;
  cpus: number;
  cpuModel: string;
  memGiB: number;
}

export type LoadAverage = [number, number, number];

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

export const formatLoad = (load: LoadAverage) => load.map((x) => x.toFixed(2)).join(' ');

export const machineLine = (m: MachineInfo = machineInfo()) =>
  `Machine: Node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ${m.memGiB} GiB memory.`;

/**
 * A warning line for a result measured while the machine was busy (a 1-minute load above its CPU count at
 * the start of any row): such numbers are a development run, not a result to quote.
 */
export function loadedMachineNote(loads: LoadAverage[], cpuCount = cpus().length): string[] {
  const worst = Math.max(0, ...loads.map((l) => l[0]));
  if (worst <= cpuCount) return [];
  return [
    '',
    `**Development run on a loaded machine** (1-minute load up to ${worst.toFixed(1)} on ${cpuCount} CPUs): msg/s and`,
    'latencies here are not results; CPU ms per message, counts and the exactly-once check still hold.',
  ];
}

/** `npm run <script> -- <args>` as started (BENCH_QUICK=1 in front when set). */
export function currentCommand(fallbackScript: string): string {
  const script = process.env.npm_lifecycle_event;
  const base = script ? `npm run ${script}` : fallbackScript;
  const args = process.argv.slice(2);
  const quick = process.env.BENCH_QUICK === '1' ? 'BENCH_QUICK=1 ' : '';
  return `${quick}${base}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
}

export const RESULTS_DIR = join(__dirname, '..', 'results');
const PRETTIER = join(__dirname, '..', '..', 'node_modules', 'prettier', 'bin', 'prettier.cjs');

/** JSON.stringify(x, null, 2) + "\n" passed through the repository's prettier (short arrays on one line), as `prettier --check` wants it. */
function jsonText(json: unknown, path: string): string {
  const plain = `${JSON.stringify(json, null, 2)}\n`;
  if (!existsSync(PRETTIER)) return plain;
  const out = spawnSync(process.execPath, [PRETTIER, '--stdin-filepath', path], {
    input: plain,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return out.status === 0 && out.stdout ? out.stdout : plain;
}

export function writeResults(
  name: string,
  input: { md: string; json: { command: string; rows: Array<{ load: LoadAverage }>; [k: string]: unknown } },
  dir: string = RESULTS_DIR,
): { mdPath: string; jsonPath: string } {
  const { command, rows, ...extra } = input.json;
  const json = {
    name,
    command,
    generatedAt: new Date().toISOString(),
    machine: machineInfo(),
    rows,
    ...extra,
  };
  mkdirSync(dir, { recursive: true });
  const mdPath = join(dir, `${name}.md`);
  const jsonPath = join(dir, `${name}.json`);
  writeFileSync(mdPath, input.md.endsWith('\n') ? input.md : `${input.md}\n`);
  writeFileSync(jsonPath, jsonText(json, jsonPath));
  return { mdPath, jsonPath };
}

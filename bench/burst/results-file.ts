import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

/**
 * A local stand-in for the shared results writer (bench/report/results-file.ts of the bench-report branch,
 * not on this branch yet): same exports, same file contract (bench/results/<name>.md and .json).
 */
export interface MachineInfo {
  node: string;
  cpus: number;
  cpuModel: string;
  memGiB: number;
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

/** The 1, 5 and 15 minute load averages, two decimals. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg().map((x) => Math.round(x * 100) / 100);
  return [a, b, c];
}

export function writeResults(
  name: string,
  files: { md: string; json: unknown },
  dir = RESULTS_DIR,
): string[] {
  mkdirSync(dir, { recursive: true });
  const md = join(dir, `${name}.md`);
  const json = join(dir, `${name}.json`);
  writeFileSync(md, files.md.endsWith('\n') ? files.md : `${files.md}\n`);
  writeFileSync(json, `${JSON.stringify(files.json, null, 2)}\n`);
  return [md, json];
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { packageFunction } from '../../scripts/deploy/package-function';

/**
 * Module load time of the function app: a fresh Node process requires the entry (registers every function;
 * what it imports is what a cold start pays before the first invocation) and reports how long `require`
 * took, in wall-clock and CPU time (CPU is the robust number on a shared machine). Several runs; the median.
 *
 * Rows (docs/design/cold-start.md):
 *  - the deployed shape: the zip of `npm run package:function` (an esbuild bundle, split at lazy imports),
 *    extracted to a temporary folder and loaded from its package.json "main" by plain Node;
 *  - the tsc output (`dist/functions/index.js` + node_modules), the shape deployed before the bundle: reference;
 *  - the sources under tsx (what the local host runs).
 *
 * `npx tsx bench/function/module-load.ts [--runs=N]` measures the packaged row alone and prints it.
 */
export interface LoadTiming {
  label: string;
  runs: number[];
  medianMs: number;
  /** CPU time (user + system) of the require, per run and median. */
  cpuRuns: number[];
  cpuMedianMs: number;
}

const PROBE = `
const started = process.hrtime.bigint();
const cpu = process.cpuUsage();
require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const used = process.cpuUsage(cpu);
process.stdout.write('\\n@@load ' + JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }) + '\\n');
process.exit(0);
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Times `require(entry)` in `runs` fresh processes. `nodeArgs` selects the loader (e.g. `--import tsx`);
 * the child's stderr (the @azure/functions "test mode" notice outside a Functions host) is dropped.
 */
export function timeModuleLoad(
  label: string,
  entry: string,
  nodeArgs: string[],
  runs: number,
  cwd: string,
): LoadTiming {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, [...nodeArgs, '-e', PROBE, entry], { cwd, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`loading ${entry} failed: ${child.stderr}`);
    // The entry prints its own lines ("HTTP streaming enabled."); the probe's line is marked.
    const line = child.stdout.split('\n').find((l) => l.startsWith('@@load '));
    if (!line) throw new Error(`no timing from ${entry}: ${child.stdout}`);
    const timing = JSON.parse(line.slice('@@load '.length)) as { ms: number; cpuMs: number };
    times.push(timing.ms);
    cpu.push(timing.cpuMs);
  }
  return { label, runs: times, medianMs: median(times), cpuRuns: cpu, cpuMedianMs: median(cpu) };
}

/**
 * Packages the function app as `npm run package:function` does (into a temporary folder), extracts the zip
 * with `unzip` (the staged folder, which holds exactly the zip's files, when unzip is missing) and times its
 * entry. Nothing else is on the extracted folder's module path: no node_modules above a temp folder.
 */
export function timePackagedLoad(repoRoot: string, runs: number): { timing: LoadTiming; zipBytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-function-package-'));
  try {
    const packaged = packageFunction({ repoRoot, outRoot: join(dir, 'build') });
    let root = packaged.folder;
    const extracted = join(dir, 'extracted');
    const unzip = spawnSync('unzip', ['-q', packaged.zipPath, '-d', extracted], { encoding: 'utf8' });
    if (unzip.status === 0) root = extracted;
    const label = `packaged zip (npm run package:function) ${packaged.entry}${unzip.status === 0 ? '' : ' (staged folder)'}`;
    return {
      timing: timeModuleLoad(label, join(root, packaged.entry), [], runs, root),
      zipBytes: packaged.zipBytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export { median };

if (require.main === module) {
  const runsArg = process.argv.find((a) => a.startsWith('--runs='));
  if (process.argv.includes('--help')) {
    process.stdout.write(
      'usage: npx tsx bench/function/module-load.ts [--runs=N]\n\nTimes the packaged entry.\n',
    );
    process.exit(0);
  }
  const { timing, zipBytes } = timePackagedLoad(
    resolve(__dirname, '..', '..'),
    Number(runsArg?.slice(7) ?? 7),
  );
  const fmt = (v: number[]) => v.map((r) => r.toFixed(0)).join(', ');
  console.log(`${timing.label} (zip ${(zipBytes / 1024).toFixed(0)} KiB)`);
  console.log(`wall median ${timing.medianMs.toFixed(0)} ms (${fmt(timing.runs)})`);
  console.log(`CPU  median ${timing.cpuMedianMs.toFixed(0)} ms (${fmt(timing.cpuRuns)})`);
}

import { spawnSync } from 'node:child_process';

/**
 * Module load time of the function app: a fresh Node process requires the entry (functions/index, which
 * registers every function and imports the Azure SDKs, mailparser and zod) and reports how long `require`
 * took. Several runs; the median is what a cold start pays before the first invocation.
 */
export interface LoadTiming {
  label: string;
  runs: number[];
  medianMs: number;
}

const PROBE = `
const started = process.hrtime.bigint();
require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write('\\n@@load ' + JSON.stringify({ ms }) + '\\n');
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
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, [...nodeArgs, '-e', PROBE, entry], { cwd, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`loading ${entry} failed: ${child.stderr}`);
    // The entry prints its own lines ("HTTP streaming enabled."); the probe's line is marked.
    const line = child.stdout.split('\n').find((l) => l.startsWith('@@load '));
    if (!line) throw new Error(`no timing from ${entry}: ${child.stdout}`);
    times.push((JSON.parse(line.slice('@@load '.length)) as { ms: number }).ms);
  }
  return { label, runs: times, medianMs: median(times) };
}

export { median };

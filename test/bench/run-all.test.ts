import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { BENCHMARKS } from '../../bench/report/benchmarks';
import { runAll } from '../../bench/report/run-benchmarks';

const ROOT = join(__dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const EDGE_JSON = {
  name: 'edge',
  command: 'npm run bench:edge',
  generatedAt: '2026-12-07T02:00:00.000Z',
  machine: { node: 'v20.19.0', cpus: 2, cpuModel: 'Test CPU', memGiB: 8 },
  rows: [{ target: 'edge', role: 'subject', scenario: '10 KB', perSecond: 100, load: [0, 0, 0] }],
};

/**
 * A project root whose package.json has a working bench:edge (prints two progress rows, writes edge.json), a
 * failing bench:function, and no bench:stack; each script logs the quick switches it was given.
 */
function fakeProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'run-all-'));
  dirs.push(root);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const report = `console.log('quick env=' + (process.env.BENCH_QUICK ?? '-') + ' args=' + process.argv.slice(2).join(' '));`;
  writeFileSync(
    join(root, 'edge.js'),
    `${report}
console.log('edge | 10 KB: 100 msg/s');
console.error('edge | 1 MB: 10 msg/s');
require('fs').writeFileSync('bench/results/edge.json', ${JSON.stringify(JSON.stringify(EDGE_JSON))});`,
  );
  writeFileSync(join(root, 'function.js'), `${report}\nconsole.error('no Azurite'); process.exit(3);`);
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({
      name: 'fake',
      private: true,
      scripts: { 'bench:edge': 'node edge.js', 'bench:function': 'node function.js' },
    }),
  );
  return root;
}

const pick = (...names: string[]) => names.map((n) => BENCHMARKS.find((b) => b.name === n)!);

describe('npm run bench (the umbrella)', () => {
  it('runs each benchmark by its npm script, forwards its rows, names failures and missing scripts', async () => {
    const root = fakeProject();
    const lines: string[] = [];
    const result = await runAll({
      root,
      benchmarks: pick('edge', 'function', 'stack'),
      quick: false,
      print: (l) => lines.push(l),
    });
    const out = lines.join('\n');
    expect(out).toMatch(/^\[1\/3\] edge: npm run bench:edge, load [\d.]+ [\d.]+ [\d.]+ at start$/m);
    expect(lines).toContain('  [edge] edge | 10 KB: 100 msg/s');
    expect(lines).toContain('  [edge] edge | 1 MB: 10 msg/s');
    expect(lines).toContain('  [edge] quick env=- args=');
    expect(out).toMatch(/^\[1\/3\] edge: done in [\d.]+ s, wrote edge\.json$/m);
    expect(lines).toContain('  [function] no Azurite');
    expect(out).toMatch(/^\[2\/3\] function: FAILED \(exit code 3\) after [\d.]+ s, wrote no result file$/m);
    expect(lines).toContain('[3/3] stack: not present (no "bench:stack" script in package.json)');
    expect(lines).toContain('  chart edge-throughput.svg: drawn from edge.json');
    expect(lines).toContain('| stack | bench:stack | not present |  |  |');
    expect(result.summary).toBe(
      'bench: 1 of 3 ran; failed: function; not present: stack; charts: 1 drawn, not drawn: stack-throughput.svg, latency.svg, edge-memory.svg',
    );
    expect(lines[lines.length - 1]).toBe(result.summary);
    expect(result.ok).toBe(false);
  });

  it('passes each benchmark its own quick mode', async () => {
    const root = fakeProject();
    const lines: string[] = [];
    const result = await runAll({
      root,
      benchmarks: pick('edge', 'function'),
      quick: true,
      print: (l) => lines.push(l),
    });
    expect(lines).toContain('  [edge] quick env=1 args=');
    expect(lines).toContain('  [function] quick env=1 args=--sizes=50000,3000000 --cpu-runs=1 --load-runs=3');
    expect(lines).toContain(
      '[1/2] edge: npm run bench:edge (quick: BENCH_QUICK=1), load ' + lines[0]!.split('load ')[1],
    );
    expect(result.ok).toBe(false);
  });

  it('is ok only when every selected benchmark ran', async () => {
    const root = fakeProject();
    const result = await runAll({ root, benchmarks: pick('edge'), quick: false, print: () => {} });
    expect(result.ok).toBe(true);
    expect(result.summary).toMatch(/^bench: 1 of 1 ran; charts: 1 drawn, not drawn: /);
  });

  it('has --help and refuses an unknown benchmark name', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run-all.ts'), ...args], {
        cwd: ROOT,
        encoding: 'utf8',
      });
    const help = run('--help');
    expect(help.status).toBe(0);
    for (const b of BENCHMARKS) expect(help.stdout).toContain(`npm run ${b.script}`);
    const bad = run('--only', 'nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown benchmark(s): nope');
  });
});

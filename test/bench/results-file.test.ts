import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { loadAverage, loadedMachineNote, machineInfo, writeResults } from '../../bench/report/results-file';

const PRETTIER = join(__dirname, '..', '..', 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'results-file-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('bench results writer', () => {
  it('describes the machine from the running process', () => {
    const m = machineInfo();
    expect(m.node).toBe(process.version);
    expect(m.cpus).toBeGreaterThan(0);
    expect(m.cpuModel.length).toBeGreaterThan(0);
    expect(m.memGiB).toBeGreaterThan(0);
  });

  it('rounds the load average to 2 decimals', () => {
    const load = loadAverage();
    expect(load).toHaveLength(3);
    for (const x of load) expect(Math.round(x * 100) / 100).toBe(x);
  });

  it('writes <name>.md and <name>.json in the prettier shape, with name, command, machine and rows', () => {
    const dir = tempDir();
    const { mdPath, jsonPath } = writeResults(
      'demo',
      {
        md: '# Demo\n\n| a |\n|---|\n| 1 |',
        json: { command: 'npm run bench:demo', rows: [{ a: 1, load: [0.5, 0.25, 1] }], memory: { peak: 3 } },
      },
      dir,
    );
    expect(mdPath).toBe(join(dir, 'demo.md'));
    expect(readFileSync(mdPath, 'utf8')).toBe('# Demo\n\n| a |\n|---|\n| 1 |\n');
    const text = readFileSync(jsonPath, 'utf8');
    const parsed = JSON.parse(text);
    // prettier --check (npm test) runs over the results' .json: the file must already be in its shape.
    const check = spawnSync(process.execPath, [PRETTIER, '--check', jsonPath], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(text).toContain('"load": [0.5, 0.25, 1]');
    expect(Object.keys(parsed)).toEqual(['name', 'command', 'generatedAt', 'machine', 'rows', 'memory']);
    expect(parsed.name).toBe('demo');
    expect(parsed.command).toBe('npm run bench:demo');
    expect(new Date(parsed.generatedAt).toISOString()).toBe(parsed.generatedAt);
    expect(parsed.machine).toEqual(machineInfo());
    expect(parsed.rows).toEqual([{ a: 1, load: [0.5, 0.25, 1] }]);
    expect(parsed.memory).toEqual({ peak: 3 });
  });

  it('marks a run as a development run when a row started with the load above the CPU count', () => {
    expect(
      loadedMachineNote(
        [
          [1.9, 1, 1],
          [2, 3, 3],
        ],
        2,
      ),
    ).toEqual([]);
    expect(
      loadedMachineNote(
        [
          [0.5, 1, 1],
          [7.83, 3, 3],
        ],
        2,
      ).join('\n'),
    ).toContain('**Development run on a loaded machine** (1-minute load up to 7.8 on 2 CPUs)');
  });

  it('refuses a name that is a path', () => {
    expect(() => writeResults('../x', { md: '', json: { command: 'c', rows: [] } }, tempDir())).toThrow(
      /plain file stem/,
    );
  });
});

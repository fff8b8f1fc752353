import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { percentile } from '../../bench/report/charts/latency-chart';
import { makeCharts } from '../../bench/report/make-charts';
import { type LoadAverage, writeResults } from '../../bench/report/results-file';
import { findAll, parseXml, type XmlElement } from './xml-tree';

const ROOT = join(__dirname, '..', '..');
const MIB = 1024 * 1024;
const LOAD: LoadAverage = [0.5, 0.4, 0.3];
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'charts-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * A result file as writeResults writes it (same arguments), without its prettier pass: the charts read the JSON,
 * not its layout, and a prettier process per fixture file would make these tests slow.
 */
function put(
  name: string,
  input: { md: string; json: { command: string } & Record<string, unknown> },
  dir: string,
) {
  const file = {
    name,
    generatedAt: '2026-12-07T02:00:00.000Z',
    machine: { node: 'v20.19.0', cpus: 2, cpuModel: 'Test CPU', memGiB: 8 },
    ...input.json,
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(file, null, 2) + '\n');
}

/** A results directory with every chart's input, in the shapes of bench/report/result-shapes.ts. */
function fixtureDir(): string {
  const dir = tempDir();
  const row = (target: string, role: string, scenario: string, perSecond: number) => ({
    target,
    role,
    scenario,
    perSecond,
    cpuMsPerMessage: 1.5,
    load: LOAD,
  });
  put(
    'edge',
    {
      md: '# edge',
      json: {
        command: 'npm run bench:edge',
        generatedAt: '2026-12-07T02:00:00.000Z',
        rows: [
          row('edge (default)', 'subject', '10 KB, 20 connections', 1100),
          row('Postfix smtpd', 'reference', '10 KB, 20 connections', 880),
          row('smtp-server discards', 'ceiling', '10 KB, 20 connections', 1500),
          row('edge (default)', 'subject', '1 MB, 1 connection', 72),
          row('Postfix smtpd', 'reference', '1 MB, 1 connection', 96),
          row('smtp-server discards', 'ceiling', '1 MB, 1 connection', 150),
        ],
      },
    },
    dir,
  );
  put(
    'stack',
    {
      md: '# stack',
      json: {
        command: 'npm run bench:stack',
        generatedAt: '2026-12-07T02:00:00.000Z',
        rows: [
          row('whole stack', 'subject', '10 KB × 20', 500),
          row('bare smtp-server', 'reference', '10 KB × 20', 1000),
          { label: 'a latency row with no throughput fields', load: LOAD },
        ],
        latency: [
          { label: 'idle', samplesMs: [40, 10, 30, 20] },
          { label: 'under 100 msg/s', samplesMs: [15, 25, 35, 45, 55, 65, 75, 85, 95, 105] },
        ],
      },
    },
    dir,
  );
  put(
    'edge-memory',
    {
      md: '# edge-memory',
      json: {
        command: 'npm run bench:edge-memory',
        generatedAt: '2026-12-07T02:00:00.000Z',
        rows: [],
        memorySeries: [
          {
            label: 'one 150 MB message',
            messageBytes: 150e6,
            samples: [0, 1, 2, 3, 4, 5].map((s) => ({
              tMs: s * 1000,
              rssBytes: [60, 70, 100, 90, 65, 61][s]! * MIB,
            })),
          },
        ],
        limits: [{ label: 'streaming target', bytes: 100 * MIB }],
      },
    },
    dir,
  );
  return dir;
}

const svgOf = (dir: string, name: string) => parseXml(readFileSync(join(dir, name), 'utf8'));
const points = (el: XmlElement) =>
  el.attrs.points!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);

describe('the strict XML parser the chart tests rely on', () => {
  it.each([
    ['crossed tags', '<a><b></a></b>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['two roots', '<a/><b/>'],
    ['an unclosed element', '<a><b/>'],
    ['a < in an attribute', '<a x="<"/>'],
  ])('rejects %s', (_what, xml) => {
    expect(() => parseXml(xml)).toThrow();
  });

  it('reads elements, attributes and entities', () => {
    const root = parseXml('<svg a="x &amp; y"><text>1 &lt; 2</text><g/></svg>');
    expect(root.attrs.a).toBe('x & y');
    expect(root.children.map((c) => c.name)).toEqual(['text', 'g']);
    expect(root.children[0]!.text).toBe('1 < 2');
  });
});

describe('bench charts', () => {
  it('draws every chart as well-formed SVG, byte for byte the same on a second run', () => {
    const dir = fixtureDir();
    const outcome = makeCharts(dir);
    expect(outcome.missing).toEqual([]);
    expect(outcome.written).toEqual([
      { svg: 'edge-throughput.svg', from: 'edge.json' },
      { svg: 'stack-throughput.svg', from: 'stack.json' },
      { svg: 'latency.svg', from: 'stack.json' },
      { svg: 'edge-memory.svg', from: 'edge-memory.json' },
    ]);
    const first = outcome.written.map((w) => readFileSync(join(dir, w.svg), 'utf8'));
    for (const text of first) {
      const root = parseXml(text);
      expect(root.name).toBe('svg');
      expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
      expect(findAll(root, 'title')[0]!.text.length).toBeGreaterThan(0);
    }
    makeCharts(dir);
    expect(outcome.written.map((w) => readFileSync(join(dir, w.svg), 'utf8'))).toEqual(first);
  });

  it('scales bars from 0: the longest bar is the largest rate, widths proportional to msg/s', () => {
    const dir = fixtureDir();
    makeCharts(dir);
    const bars = findAll(svgOf(dir, 'edge-throughput.svg'), 'rect').filter((r) => r.attrs.class === 'bar');
    expect(bars).toHaveLength(6);
    const values = bars.map((b) => Number(b.attrs['data-value']));
    const widths = bars.map((b) => Number(b.attrs.width));
    expect(values[widths.indexOf(Math.max(...widths))]).toBe(1500);
    expect(values[widths.indexOf(Math.min(...widths))]).toBe(72);
    const perUnit = widths[0]! / values[0]!;
    widths.forEach((w, i) => expect(w / values[i]!).toBeCloseTo(perUnit, 2));
    const texts = findAll(svgOf(dir, 'edge-throughput.svg'), 'text').map((t) => t.text);
    expect(texts).toContain('1100 msg/s · 1.25× Postfix');
    expect(texts).toContain('72 msg/s · 0.75× Postfix');
    expect(texts).toContain('880 msg/s'); // the reference itself gets no ratio
    expect(findAll(svgOf(dir, 'stack-throughput.svg'), 'text').map((t) => t.text)).toContain(
      '500 msg/s · 0.50× bare smtp-server',
    );
  });

  it('draws each latency series as a CDF reaching 100% at its largest sample, with p50/p99 in the legend', () => {
    const dir = fixtureDir();
    makeCharts(dir);
    const root = svgOf(dir, 'latency.svg');
    const lines = findAll(root, 'polyline');
    expect(lines.map((l) => l.attrs['data-series'])).toEqual(['idle', 'under 100 msg/s']);
    const idle = points(lines[0]!);
    const top = Math.min(...idle.map(([, y]) => y));
    const bottom = Math.max(...idle.map(([, y]) => y));
    // The first step starts at 0% at the smallest sample; 100% is first reached at the largest (40 ms).
    const firstAtTop = idle.find(([, y]) => y === top)!;
    const slow = points(lines[1]!);
    expect(idle[0]![1]).toBe(bottom);
    expect(slow.find(([, y]) => y === top)![0]).toBeGreaterThan(firstAtTop[0]);
    const legend = findAll(root, 'text').map((t) => t.text);
    expect(legend).toContain('idle: n=4, p50 20 ms, p99 40 ms');
    expect(legend).toContain('under 100 msg/s: n=10, p50 55 ms, p99 105 ms');
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
  });

  it('draws RSS over time with the peak highest and a limit line on the same scale', () => {
    const dir = fixtureDir();
    makeCharts(dir);
    const root = svgOf(dir, 'edge-memory.svg');
    const rss = points(findAll(root, 'polyline')[0]!);
    expect(rss).toHaveLength(6);
    const highest = rss.findIndex(([, y]) => y === Math.min(...rss.map(([, yy]) => yy)));
    expect(highest).toBe(2); // the 100 MiB sample
    const limit = findAll(root, 'line').find((l) => l.attrs.class === 'limit')!;
    expect(Number(limit.attrs.y1)).toBe(rss[2]![1]);
    expect(rss.map(([x]) => x)).toEqual([...rss.map(([x]) => x)].sort((a, b) => a - b));
    expect(findAll(root, 'text').map((t) => t.text)).toContain('one 150 MB message: peak 100 MiB');
  });

  it('reports every chart whose input is missing or malformed, naming the files it tried', () => {
    const dir = tempDir();
    expect(makeCharts(dir)).toEqual({
      written: [],
      missing: [
        { svg: 'edge-throughput.svg', reasons: ['edge.json not found'] },
        { svg: 'stack-throughput.svg', reasons: ['stack.json not found'] },
        { svg: 'latency.svg', reasons: ['latency.json not found', 'stack.json not found'] },
        { svg: 'edge-memory.svg', reasons: ['edge-memory.json not found', 'edge.json not found'] },
      ],
    });
    writeFileSync(join(dir, 'edge.json'), JSON.stringify({ name: 'edge', command: 'x', rows: [] }));
    writeFileSync(join(dir, 'stack.json'), '{ not json');
    const outcome = makeCharts(dir);
    expect(outcome.written).toEqual([]);
    const reasons = Object.fromEntries(outcome.missing.map((m) => [m.svg, m.reasons.join(' | ')]));
    expect(reasons['edge-throughput.svg']).toMatch(/edge\.json breaks the results-file contract.*machine/s);
    expect(reasons['stack-throughput.svg']).toMatch(/stack\.json is not JSON/);
    expect(existsSync(join(dir, 'edge-throughput.svg'))).toBe(false);
  });

  it('says which data a present file lacks', () => {
    const dir = tempDir();
    writeResults('stack', { md: '', json: { command: 'npm run bench:stack', rows: [] } }, dir);
    writeResults(
      'edge-memory',
      {
        md: '',
        json: { command: 'npm run bench:edge-memory', rows: [], memorySeries: [{ label: 'x', samples: [] }] },
      },
      dir,
    );
    const reasons = Object.fromEntries(makeCharts(dir).missing.map((m) => [m.svg, m.reasons.join(' | ')]));
    expect(reasons['stack-throughput.svg']).toBe(
      'stack.json: no throughput rows (scenario, target, perSecond)',
    );
    expect(reasons['latency.svg']).toBe('latency.json not found | stack.json: no "latency" series');
    expect(reasons['edge-memory.svg']).toMatch(
      /^edge-memory\.json: "memorySeries" has the wrong shape: .*samples/s,
    );
  });

  it('draws the edge chart from a real (development) run of bench:edge, with its warning', () => {
    const dir = tempDir();
    copyFileSync(join(__dirname, 'fixtures', 'edge-quick-dev-run.json'), join(dir, 'edge.json'));
    makeCharts(dir);
    const root = svgOf(dir, 'edge-throughput.svg');
    const bars = findAll(root, 'rect').filter((r) => r.attrs.class === 'bar');
    expect(bars).toHaveLength(24); // 6 servers × 4 scenarios
    expect(findAll(root, 'text').some((t) => t.text.startsWith('Development run:'))).toBe(true);
  });

  it('warns on the chart when a row started on a loaded machine, and not when idle', () => {
    const dir = fixtureDir();
    makeCharts(dir);
    const warning = (svg: string) => findAll(svgOf(dir, svg), 'text').find((t) => t.attrs.fill === '#cf222e');
    expect(warning('edge-throughput.svg')).toBeUndefined();
    const edge = JSON.parse(readFileSync(join(dir, 'edge.json'), 'utf8'));
    edge.rows[1].load = [5.5, 2, 1];
    writeFileSync(join(dir, 'edge.json'), JSON.stringify(edge));
    makeCharts(dir);
    expect(warning('edge-throughput.svg')?.text).toBe(
      'Loaded machine (1-minute load up to 5.5 on 2 CPUs): msg/s and latency are not results.',
    );
    edge.command = 'npm run bench:edge -- --quick';
    writeFileSync(join(dir, 'edge.json'), JSON.stringify(edge));
    makeCharts(dir);
    expect(warning('edge-throughput.svg')?.text).toBe('Quick run: a check of the harness, not a result.');
  });

  it('bench:charts reports what it could not draw, and fails with --strict', () => {
    const dir = tempDir();
    const run = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'bench', 'report', 'charts-main.ts'), ...args],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
    const lax = run('--dir', dir);
    expect(lax.status).toBe(0);
    expect(lax.stdout).toContain(
      'chart latency.svg: NOT drawn (latency.json not found; stack.json not found)',
    );
    expect(lax.stdout).toContain('charts: 0 drawn, 4 not drawn');
    expect(run('--dir', dir, '--strict').status).toBe(1);
    expect(run('--help').stdout).toContain('usage: npm run bench:charts');
  });
});

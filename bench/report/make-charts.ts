import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { latencyChart } from './charts/latency-chart';
import { memoryChart } from './charts/memory-chart';
import { throughputChart } from './charts/throughput-chart';
import {
  latencyFileSchema,
  memoryFileSchema,
  type ResultsFile,
  resultsFileSchema,
  throughputRowSchema,
} from './result-shapes';

/**
 * The charts of bench/results/, made from the result files alone (no benchmark runs): which chart reads which
 * file is listed here; what it reads from it is in result-shapes.ts. A chart whose input is missing or has the
 * wrong shape is reported, not drawn, and an older SVG of it is left as it was.
 */

export interface ChartSpec {
  /** The SVG's file name in the results directory. */
  svg: string;
  title: string;
  /** Result files (stems) tried in order: the first that has this chart's data is drawn. */
  from: string[];
  /** The SVG text from a file, or why this file has no data for the chart. */
  draw(file: ResultsFile): string | { absent: string };
}

function throughputSpec(svg: string, title: string, from: string, referenceName: string): ChartSpec {
  return {
    svg,
    title,
    from: [from],
    draw(file) {
      const rows = file.rows.flatMap((r) => {
        const parsed = throughputRowSchema.safeParse(r);
        return parsed.success ? [parsed.data] : [];
      });
      if (rows.length === 0) return { absent: 'no throughput rows (scenario, target, perSecond)' };
      return throughputChart({ title, file, rows, referenceName });
    },
  };
}

export const CHARTS: ChartSpec[] = [
  throughputSpec(
    'edge-throughput.svg',
    'Edge intake: msg/s per scenario against Postfix smtpd and the smtp-server ceilings',
    'edge',
    'Postfix',
  ),
  throughputSpec(
    'stack-throughput.svg',
    'Whole stack (edge + function + Azurite + Graph sandbox) against a bare smtp-server',
    'stack',
    'bare smtp-server',
  ),
  {
    svg: 'latency.svg',
    title: 'Latency a user feels: end of DATA to the Graph request (CDF)',
    from: ['latency', 'stack'],
    draw(file) {
      if (!('latency' in file)) return { absent: 'no "latency" series' };
      const parsed = latencyFileSchema.safeParse(file);
      if (!parsed.success)
        return { absent: `"latency" has the wrong shape: ${z.prettifyError(parsed.error)}` };
      return latencyChart({ title: this.title, file, series: parsed.data.latency });
    },
  },
  {
    svg: 'edge-memory.svg',
    title: 'Edge RSS over time while one 150 MB message streams through',
    from: ['edge-memory', 'edge'],
    draw(file) {
      if (!('memorySeries' in file)) return { absent: 'no "memorySeries"' };
      const parsed = memoryFileSchema.safeParse(file);
      if (!parsed.success)
        return { absent: `"memorySeries" has the wrong shape: ${z.prettifyError(parsed.error)}` };
      return memoryChart({ title: this.title, file, memory: parsed.data });
    },
  },
];

export interface ChartsOutcome {
  written: Array<{ svg: string; from: string }>;
  /** Charts not drawn, with every reason (one per file tried). */
  missing: Array<{ svg: string; reasons: string[] }>;
}

/** Reads a result file; undefined when it is not there, an Error naming the file when it is not valid. */
export function readResultsFile(dir: string, stem: string): ResultsFile | undefined | Error {
  const path = join(dir, `${stem}.json`);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return new Error(`${stem}.json is not JSON: ${(e as Error).message}`);
  }
  const parsed = resultsFileSchema.safeParse(raw);
  if (!parsed.success)
    return new Error(`${stem}.json breaks the results-file contract: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function makeCharts(dir: string, charts: ChartSpec[] = CHARTS): ChartsOutcome {
  const outcome: ChartsOutcome = { written: [], missing: [] };
  for (const chart of charts) {
    const reasons: string[] = [];
    let drawn = false;
    for (const stem of chart.from) {
      const file = readResultsFile(dir, stem);
      if (file === undefined) {
        reasons.push(`${stem}.json not found`);
        continue;
      }
      if (file instanceof Error) {
        reasons.push(file.message);
        continue;
      }
      const svg = chart.draw(file);
      if (typeof svg !== 'string') {
        reasons.push(`${stem}.json: ${svg.absent}`);
        continue;
      }
      writeFileSync(join(dir, chart.svg), svg);
      outcome.written.push({ svg: chart.svg, from: `${stem}.json` });
      drawn = true;
      break;
    }
    if (!drawn) outcome.missing.push({ svg: chart.svg, reasons });
  }
  return outcome;
}

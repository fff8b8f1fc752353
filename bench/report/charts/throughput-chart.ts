import type { ResultsFile, ThroughputRow } from '../result-shapes';
import { header, label, legend, line, linearTicks, n, PALETTE, esc, svgDocument, text } from '../svg';

const WIDTH = 900;
const LEFT = 16;
/** Room right of the longest bar for its value and ratio. */
const RIGHT = 190;
const BAR = 14;
const BAR_GAP = 3;
const GROUP_GAP = 16;

/**
 * Horizontal grouped bars: one group per scenario, one bar per server (`target`), all on one msg/s axis from 0, so
 * the longest bar is the largest rate. A subject's bar is labelled with its ratio to the scenario's reference row.
 */
export function throughputChart(opts: {
  title: string;
  file: ResultsFile;
  rows: ThroughputRow[];
  /** Short name of the reference in ratio labels, e.g. "Postfix". */
  referenceName: string;
}): string {
  const targets = [...new Set(opts.rows.map((r) => r.target))];
  const scenarios = [...new Set(opts.rows.map((r) => r.scenario))];
  const color = (t: string) => PALETTE[targets.indexOf(t) % PALETTE.length]!;
  const max = Math.max(...opts.rows.map((r) => r.perSecond));
  const ticks = linearTicks(max);
  const top = ticks[ticks.length - 1]!;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (v: number) => LEFT + (v / top) * plotWidth;

  const head = header(opts.title, opts.file);
  const body = head.elements;
  const leg = legend(
    LEFT,
    head.bottom + 24,
    WIDTH - 2 * LEFT,
    targets.map((t) => ({ color: color(t), label: t })),
  );
  body.push(...leg.elements);
  let y = head.bottom + 24 + leg.height + 8;
  const plotTop = y;
  const bars: string[] = [];
  for (const scenario of scenarios) {
    bars.push(text(LEFT, y + 12, scenario, { size: 13, weight: 'bold' }));
    y += 20;
    const rows = targets.flatMap((t) => opts.rows.filter((r) => r.scenario === scenario && r.target === t));
    const reference = rows.find((r) => r.role === 'reference');
    for (const r of rows) {
      const w = x(r.perSecond) - LEFT;
      const tip = `${r.target}, ${scenario}: ${label(r.perSecond)} msg/s${r.cpuMsPerMessage !== undefined ? `, ${label(r.cpuMsPerMessage)} CPU ms/msg` : ''}, load ${r.load.join(' ')} at start`;
      bars.push(
        `<rect class="bar" data-target="${esc(r.target)}" data-scenario="${esc(scenario)}" data-value="${r.perSecond}" x="${LEFT}" y="${n(y)}" width="${n(w)}" height="${BAR}" fill="${color(r.target)}"><title>${esc(tip)}</title></rect>`,
      );
      const ratio =
        reference && reference !== r && (r.role ?? 'subject') === 'subject' && reference.perSecond > 0
          ? ` · ${(r.perSecond / reference.perSecond).toFixed(2)}× ${opts.referenceName}`
          : '';
      bars.push(text(LEFT + w + 6, y + BAR - 3, `${label(r.perSecond)} msg/s${ratio}`, { size: 11 }));
      y += BAR + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  const axisY = y;
  for (const t of ticks) {
    body.push(line(x(t), plotTop, x(t), axisY, '#eaeef2'));
    body.push(text(x(t), axisY + 16, label(t), { size: 11, anchor: 'middle', fill: '#57606a' }));
  }
  body.push(line(LEFT, axisY, LEFT + plotWidth, axisY, '#57606a'));
  body.push(...bars);
  body.push(
    text(LEFT + plotWidth / 2, axisY + 34, 'messages per second (higher is better)', {
      size: 12,
      anchor: 'middle',
    }),
  );
  const hasReference = opts.rows.some((r) => r.role === 'reference');
  const note = hasReference
    ? `Ratios: each subject row against the ${opts.referenceName} row of the same scenario, measured in the same run.`
    : `No ${opts.referenceName} row in this run, so no ratios (see the .md for why).`;
  body.push(text(LEFT, axisY + 54, note, { size: 11, fill: '#57606a' }));
  return svgDocument(WIDTH, axisY + 66, opts.title, `${opts.title}. ${note}`, body);
}

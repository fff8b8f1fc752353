import type { MemoryFile, ResultsFile } from '../result-shapes';
import { header, label, legend, line, linearTicks, n, PALETTE, esc, svgDocument, text } from '../svg';

const WIDTH = 900;
const LEFT = 64;
const RIGHT = 24;
const PLOT_HEIGHT = 280;
const MIB = 1024 * 1024;
const LIMIT_COLOR = '#cf222e';

/** RSS (MiB, from 0) over seconds since each series' start, with the limits as dashed red lines. */
export function memoryChart(opts: { title: string; file: ResultsFile; memory: MemoryFile }): string {
  const series = opts.memory.memorySeries;
  const limits = opts.memory.limits ?? [];
  const maxSeconds = Math.max(...series.flatMap((s) => s.samples.map((p) => p.tMs / 1000)));
  const maxMiB = Math.max(
    ...series.flatMap((s) => s.samples.map((p) => p.rssBytes / MIB)),
    ...limits.map((l) => l.bytes / MIB),
  );
  const xTicks = linearTicks(maxSeconds);
  const yTicks = linearTicks(maxMiB);
  const xTop = xTicks[xTicks.length - 1]!;
  const yTop = yTicks[yTicks.length - 1]!;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (seconds: number) => LEFT + (seconds / xTop) * plotWidth;

  const head = header(opts.title, opts.file);
  const body = head.elements;
  const entries = [
    ...series.map((s, i) => {
      const peak = Math.max(...s.samples.map((p) => p.rssBytes));
      return { color: PALETTE[i % PALETTE.length]!, label: `${s.label}: peak ${label(peak / MIB)} MiB` };
    }),
    ...limits.map((l) => ({
      color: LIMIT_COLOR,
      label: /MiB/.test(l.label) ? l.label : `${l.label} (${label(l.bytes / MIB)} MiB)`,
      dash: '6 4',
    })),
  ];
  const leg = legend(16, head.bottom + 24, WIDTH - 32, entries);
  body.push(...leg.elements);
  const plotTop = head.bottom + 24 + leg.height + 22;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const y = (mib: number) => plotBottom - (mib / yTop) * PLOT_HEIGHT;

  for (const t of xTicks) {
    body.push(line(x(t), plotTop, x(t), plotBottom, '#eaeef2'));
    body.push(text(x(t), plotBottom + 16, label(t), { size: 11, anchor: 'middle', fill: '#57606a' }));
  }
  for (const t of yTicks) {
    body.push(line(LEFT, y(t), LEFT + plotWidth, y(t), '#eaeef2'));
    body.push(text(LEFT - 6, y(t) + 4, label(t), { size: 11, anchor: 'end', fill: '#57606a' }));
  }
  body.push(line(LEFT, plotBottom, LEFT + plotWidth, plotBottom, '#57606a'));
  body.push(line(LEFT, plotTop, LEFT, plotBottom, '#57606a'));
  for (const l of limits) {
    const ly = y(l.bytes / MIB);
    body.push(
      `<line class="limit" data-bytes="${l.bytes}" x1="${n(LEFT)}" y1="${n(ly)}" x2="${n(LEFT + plotWidth)}" y2="${n(ly)}" stroke="${LIMIT_COLOR}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      text(LEFT + plotWidth - 4, ly - 4, l.label, { size: 10, anchor: 'end', fill: LIMIT_COLOR }),
    );
  }
  series.forEach((s, i) => {
    const points = s.samples.map((p) => `${n(x(p.tMs / 1000))},${n(y(p.rssBytes / MIB))}`);
    body.push(
      `<polyline class="rss" data-series="${esc(s.label)}" points="${points.join(' ')}" fill="none" stroke="${entries[i]!.color}" stroke-width="2"/>`,
    );
  });
  body.push(text(LEFT + plotWidth / 2, plotBottom + 34, 'seconds', { size: 12, anchor: 'middle' }));
  body.push(text(16, plotTop - 12, 'RSS (MiB, lower is better)', { size: 11, fill: '#57606a' }));
  return svgDocument(
    WIDTH,
    plotBottom + 48,
    opts.title,
    `${opts.title}: ${entries.map((e) => e.label).join('; ')}`,
    body,
  );
}

import type { LatencySeries, ResultsFile } from '../result-shapes';
import {
  header,
  label,
  legend,
  line,
  linearTicks,
  logTicks,
  n,
  PALETTE,
  esc,
  svgDocument,
  text,
} from '../svg';

const WIDTH = 900;
const LEFT = 64;
const RIGHT = 24;
const PLOT_HEIGHT = 280;

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * The latency distribution as a CDF: for each series, the share of messages (y) that reached the Graph request
 * within x ms. A logarithmic x axis when the samples span more than 50× (a cold path next to warm ones).
 */
export function latencyChart(opts: { title: string; file: ResultsFile; series: LatencySeries[] }): string {
  const sorted = opts.series.map((s) => [...s.samplesMs].sort((a, b) => a - b));
  const all = sorted.flat();
  const max = Math.max(...all);
  const minPositive = Math.min(...all.filter((v) => v > 0), max);
  const log = max > 0 && max / minPositive > 50;
  const ticks = log ? logTicks(minPositive, max) : linearTicks(max);
  const lo = log ? ticks[0]! : 0;
  const hi = ticks[ticks.length - 1]!;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (v: number) =>
    LEFT +
    (log
      ? ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotWidth
      : (v / hi) * plotWidth);

  const head = header(opts.title, opts.file);
  const body = head.elements;
  const entries = opts.series.map((s, i) => {
    const v = sorted[i]!;
    return {
      color: PALETTE[i % PALETTE.length]!,
      label: `${s.label}: n=${v.length}, p50 ${label(percentile(v, 50))} ms, p99 ${label(percentile(v, 99))} ms`,
    };
  });
  const leg = legend(16, head.bottom + 24, WIDTH - 32, entries);
  body.push(...leg.elements);
  const plotTop = head.bottom + 24 + leg.height + 22;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const y = (share: number) => plotBottom - share * PLOT_HEIGHT;

  for (const t of ticks) {
    body.push(line(x(t), plotTop, x(t), plotBottom, '#eaeef2'));
    body.push(text(x(t), plotBottom + 16, label(t), { size: 11, anchor: 'middle', fill: '#57606a' }));
  }
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    body.push(line(LEFT, y(share), LEFT + plotWidth, y(share), '#eaeef2'));
    body.push(text(LEFT - 6, y(share) + 4, `${share * 100}%`, { size: 11, anchor: 'end', fill: '#57606a' }));
  }
  for (const [p, share] of [
    ['p50', 0.5],
    ['p99', 0.99],
  ] as const) {
    body.push(line(LEFT, y(share), LEFT + plotWidth, y(share), '#8c959f', '4 3'));
    body.push(text(LEFT + plotWidth - 4, y(share) - 3, p, { size: 10, anchor: 'end', fill: '#57606a' }));
  }
  body.push(line(LEFT, plotBottom, LEFT + plotWidth, plotBottom, '#57606a'));
  body.push(line(LEFT, plotTop, LEFT, plotBottom, '#57606a'));

  opts.series.forEach((s, i) => {
    const v = sorted[i]!;
    // A step function: flat at share k/n until the next sample, then up.
    const points: string[] = [`${n(x(v[0]!))},${n(y(0))}`];
    v.forEach((sample, k) => {
      points.push(`${n(x(sample))},${n(y(k / v.length))}`, `${n(x(sample))},${n(y((k + 1) / v.length))}`);
    });
    points.push(`${n(x(hi))},${n(y(1))}`);
    body.push(
      `<polyline class="cdf" data-series="${esc(s.label)}" points="${points.join(' ')}" fill="none" stroke="${entries[i]!.color}" stroke-width="2"/>`,
    );
  });
  body.push(
    text(
      LEFT + plotWidth / 2,
      plotBottom + 34,
      `ms from the device's end of DATA to the Graph request${log ? ' (log scale)' : ''}`,
      {
        size: 12,
        anchor: 'middle',
      },
    ),
  );
  body.push(text(16, plotTop - 12, 'share of messages', { size: 11, fill: '#57606a' }));
  return svgDocument(
    WIDTH,
    plotBottom + 48,
    opts.title,
    `${opts.title}: ${entries.map((e) => e.label).join('; ')}`,
    body,
  );
}

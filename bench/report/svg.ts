/**
 * Hand-written SVG for the benchmark charts (no charting dependency). Output is deterministic: the same input gives
 * the same bytes (fixed number formatting, no timestamps beyond the input's own), so regenerated charts only show
 * in a diff when the results changed. Charts carry their own white background so they read on GitHub's dark theme.
 */

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
];

export const FONT = 'font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A coordinate: at most 2 decimals, no trailing zeros, never "-0". */
export function n(x: number): string {
  const r = Math.round(x * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

/** A value for a label: integers above 100, up to 3 significant digits below. */
export function label(x: number): string {
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return Math.round(x).toString();
  return String(Number(x.toPrecision(3)));
}

/** Axis ticks from 0 with a 1/2/5 × 10^k step, the last tick at or above max. */
export function linearTicks(max: number, target = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let i = 0; i * step < max + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

/** Log-axis ticks 1/2/5 × 10^k covering [min, max]. */
export function logTicks(min: number, max: number): number[] {
  const lo = 10 ** Math.floor(Math.log10(min));
  const ticks: number[] = [];
  for (let p = lo; ticks.length === 0 || ticks[ticks.length - 1]! < max; p *= 10)
    for (const m of [1, 2, 5]) {
      const t = Number((m * p).toPrecision(12));
      if (t >= min / 5 && (ticks.length === 0 || ticks[ticks.length - 1]! < max)) ticks.push(t);
    }
  return ticks;
}

export function text(
  x: number,
  y: number,
  content: string,
  opts: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: 'bold'; fill?: string } = {},
): string {
  const attrs = [
    `x="${n(x)}"`,
    `y="${n(y)}"`,
    `font-size="${opts.size ?? 12}"`,
    opts.anchor && opts.anchor !== 'start' ? `text-anchor="${opts.anchor}"` : '',
    opts.weight ? `font-weight="${opts.weight}"` : '',
    `fill="${opts.fill ?? '#24292f'}"`,
  ].filter(Boolean);
  return `<text ${attrs.join(' ')}>${esc(content)}</text>`;
}

export function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  stroke = '#d0d7de',
  dash?: string,
): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${stroke}" stroke-width="1"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

/** The whole document: a titled, described image with a white background. */
export function svgDocument(
  width: number,
  height: number,
  title: string,
  description: string,
  body: string[],
) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" role="img" ${FONT}>`,
    `<title>${esc(title)}</title>`,
    `<desc>${esc(description)}</desc>`,
    `<rect x="0" y="0" width="${n(width)}" height="${n(height)}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * The header every chart has: its title, where the numbers come from, and a red warning when the file is not a
 * result (a quick run or a development run on a loaded machine). Returns the elements and the y below them.
 */
export function header(title: string, file: SourceFile): { elements: string[]; bottom: number } {
  const elements = [
    text(16, 24, title, { size: 16, weight: 'bold' }),
    text(16, 42, sourceLine(file), { size: 11, fill: '#57606a' }),
  ];
  const warning = runWarning(file);
  if (warning) elements.push(text(16, 58, warning, { size: 11, weight: 'bold', fill: '#cf222e' }));
  return { elements, bottom: warning ? 58 : 42 };
}

interface SourceFile {
  name: string;
  command: string;
  generatedAt: string;
  machine: { node: string; cpus: number; cpuModel: string; memGiB: number };
  rows?: Array<{ load?: unknown }>;
  /** Set by whoever commits a result that is not final (results-file contract: development runs say so). */
  development?: unknown;
  /** Set on a file made from an older .md table rather than written by its benchmark. */
  transcribed?: unknown;
  quick?: unknown;
}

/** Why this file's numbers are not a result, if they are not. */
export function runWarning(file: SourceFile): string | undefined {
  if (typeof file.development === 'string' && file.development) return `Development run: ${file.development}`;
  if (typeof file.transcribed === 'string' && file.transcribed) return `Transcribed ${file.transcribed}`;
  if (file.quick === true || /\bBENCH_QUICK=1\b|(^|\s)--quick(\s|$)/.test(file.command))
    return 'Quick run: a check of the harness, not a result.';
  const worst = Math.max(
    0,
    ...(file.rows ?? []).map((r) => (Array.isArray(r.load) ? Number(r.load[0]) || 0 : 0)),
  );
  if (worst > file.machine.cpus)
    return `Loaded machine (1-minute load up to ${worst.toFixed(1)} on ${file.machine.cpus} CPUs): msg/s and latency are not results.`;
  return undefined;
}

/** A legend laid out in rows; returns the elements and the height used. */
export function legend(
  x: number,
  y: number,
  width: number,
  entries: Array<{ color: string; label: string; dash?: string }>,
): { elements: string[]; height: number } {
  const elements: string[] = [];
  let cx = x;
  let cy = y;
  for (const e of entries) {
    // An estimate of the label's width: about 6.6 px per character at 12 px.
    const w = 24 + e.label.length * 6.6 + 16;
    if (cx > x && cx + w > x + width) {
      cx = x;
      cy += 18;
    }
    elements.push(
      e.dash
        ? line(cx, cy - 4, cx + 16, cy - 4, e.color, e.dash)
        : `<rect x="${n(cx)}" y="${n(cy - 10)}" width="16" height="10" fill="${e.color}"/>`,
      text(cx + 22, cy, e.label, { size: 12 }),
    );
    cx += w;
  }
  return { elements, height: cy - y + 18 };
}

/** "bench/results/edge.json · npm run bench:edge · 2026-12-07 02:06 UTC · Node v20, 2 CPUs, 23.5 GiB". */
export function sourceLine(file: SourceFile): string {
  const m = file.machine;
  return `bench/results/${file.name}.json · ${file.command} · ${file.generatedAt.slice(0, 16).replace('T', ' ')} UTC · Node ${m.node}, ${m.cpus} CPUs, ${m.memGiB} GiB`;
}

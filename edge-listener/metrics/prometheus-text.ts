/**
 * A minimal Prometheus registry that renders the text exposition format (version 0.0.4): counters, gauges
 * read at scrape time, and histograms with fixed buckets. Small on purpose — the listener needs a dozen
 * series, and prom-client would bring a dependency and a global registry for that.
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export type Labels = Record<string, string>;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  constructor(name: string, help: string) {
    this.#name = name;
    this.#help = help;
  }

  /** Makes a series visible at 0 before its first event, so rate() and alerts see it from the start. */
  declare(labels: Labels = {}): void {
    this.inc(labels, 0);
  }

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const cur = this.#values.get(key);
    if (cur) cur.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  value(labels: Labels = {}): number {
    return this.#values.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = header(this.#name, this.#help, 'counter');
    for (const [key, { value }] of this.#values) lines.push(`${this.#name}${key} ${num(value)}`);
    return lines;
  }
}

/** A gauge whose samples are read when scraped (spool depth, open connections). */
export class Gauge implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => Array<[Labels, number]>;

  constructor(name: string, help: string, read: () => Array<[Labels, number]> | number) {
    this.#name = name;
    this.#help = help;
    this.#read = () => {
      const v = read();
      return typeof v === 'number' ? [[{}, v]] : v;
    };
  }

  render(): string[] {
    const lines = header(this.#name, this.#help, 'gauge');
    for (const [labels, value] of this.#read()) lines.push(`${this.#name}${labelText(labels)} ${num(value)}`);
    return lines;
  }
}

export class Histogram implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(name: string, help: string, bounds: number[]) {
    this.#name = name;
    this.#help = help;
    this.#bounds = [...bounds].sort((a, b) => a - b);
    this.#counts = this.#bounds.map(() => 0);
  }

  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = 0; i < this.#bounds.length; i++) if (value <= this.#bounds[i]!) this.#counts[i]!++;
  }

  get count(): number {
    return this.#count;
  }

  render(): string[] {
    const lines = header(this.#name, this.#help, 'histogram');
    this.#bounds.forEach((le, i) => lines.push(`${this.#name}_bucket{le="${num(le)}"} ${this.#counts[i]}`));
    lines.push(
      `${this.#name}_bucket{le="+Inf"} ${this.#count}`,
      `${this.#name}_sum ${num(this.#sum)}`,
      `${this.#name}_count ${this.#count}`,
    );
    return lines;
  }
}

export class MetricsRegistry {
  readonly #metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.#metrics.flatMap((m) => m.render()).join('\n') + '\n';
  }
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`];
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${keys.map((k) => `${k}="${escape(labels[k]!)}"`).join(',')}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

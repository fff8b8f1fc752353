import { describe, expect, it } from 'vitest';

import { Counter, Gauge, Histogram, MetricsRegistry } from '../../../edge-listener/metrics/prometheus-text';

describe('Prometheus text rendering', () => {
  it('escapes label values and help text so a code or name can never break a line', () => {
    const r = new MetricsRegistry();
    const c = r.add(new Counter('x_total', 'help with \\ and\nnewline'));
    c.inc({ code: 'a"b\\c\nd' }, 2);
    expect(r.render()).toBe(
      '# HELP x_total help with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{code="a\\"b\\\\c\\nd"} 2\n',
    );
  });

  it('renders cumulative histogram buckets whose +Inf bucket equals the count', () => {
    const r = new MetricsRegistry();
    const h = r.add(new Histogram('lat_seconds', 'latency', [1, 0.1]));
    for (const v of [0.05, 0.5, 5]) h.observe(v);
    expect(r.render()).toContain(
      'lat_seconds_bucket{le="0.1"} 1\nlat_seconds_bucket{le="1"} 2\nlat_seconds_bucket{le="+Inf"} 3\nlat_seconds_sum 5.55\nlat_seconds_count 3\n',
    );
  });

  it('reads gauges at render time with sorted labels', () => {
    let depth = 1;
    const r = new MetricsRegistry();
    r.add(new Gauge('depth', 'd', () => [[{ z: '1', a: '2' }, depth]]));
    depth = 7;
    expect(r.render()).toContain('depth{a="2",z="1"} 7');
  });
});

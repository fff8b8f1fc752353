import { describe, expect, it } from 'vitest';

import { histogram, percentile, summarize } from '../../bench/stack/stats';
import { planLanes } from '../../bench/stack/smtp-lanes';
import { dotStuff } from '../../bench/stack/smtp-client';
import { loadedMachineNote } from '../../bench/report/results-file';

describe('bench/stack statistics', () => {
  it('takes percentiles by nearest rank: always a measured sample, p99 of fewer than 100 samples is the largest', () => {
    const xs = [50, 10, 40, 20, 30];
    expect(percentile(xs, 50)).toBe(30);
    expect(percentile(xs, 20)).toBe(10);
    expect(percentile(xs, 21)).toBe(20);
    expect(percentile(xs, 99)).toBe(50);
    expect(percentile(xs, 100)).toBe(50);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted input
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile(xs, 0)).toThrow(RangeError);
    expect(() => percentile(xs, 101)).toThrow(RangeError);
    expect(xs).toEqual([50, 10, 40, 20, 30]); // the caller's array is not sorted in place
  });

  it('summarizes to two decimals and says count 0 for no samples', () => {
    expect(summarize([1.234, 2.345, 3.456])).toEqual({
      count: 3,
      minMs: 1.23,
      p50Ms: 2.35,
      p90Ms: 3.46,
      p99Ms: 3.46,
      maxMs: 3.46,
      meanMs: 2.35,
    });
    expect(summarize([])).toEqual({ count: 0 });
  });

  it('puts each sample in the first bucket whose upper edge it does not exceed, the rest in the open bucket', () => {
    const h = histogram([1, 5, 5.01, 10, 11, 1000], [5, 10, 100]);
    expect(h).toEqual([
      { le: 5, count: 2 },
      { le: 10, count: 2 },
      { le: 100, count: 1 },
      { le: null, count: 1 },
    ]);
    expect(histogram([]).reduce((n, b) => n + b.count, 0)).toBe(0);
  });
});

describe('bench/stack smtp-source lanes', () => {
  it('splits the messages over the lanes, each lane in chunks of at most perSender with a sender of its own', () => {
    const plan = planLanes(53, 5, 4, 'many');
    expect(plan).toHaveLength(5);
    expect(plan.map((lane) => lane.reduce((n, c) => n + c.messages, 0))).toEqual([11, 11, 11, 10, 10]);
    expect(plan.flat().every((c) => c.messages >= 1 && c.messages <= 4)).toBe(true);
    const senders = plan.flat().map((c) => c.from);
    expect(new Set(senders).size).toBe(senders.length);
    expect(plan[0]?.map((c) => c.messages)).toEqual([4, 4, 3]);
    expect(plan[0]?.[0]?.from).toBe('many-1-1@example.com');
  });

  it('leaves lanes empty when there are fewer messages than lanes, and refuses zero lanes', () => {
    expect(planLanes(2, 3, 10, 'x').map((l) => l.length)).toEqual([1, 1, 0]);
    expect(() => planLanes(10, 0, 10, 'x')).toThrow(RangeError);
  });
});

describe('bench/stack SMTP client', () => {
  it('dot-stuffs lines that start with a dot and ends the data with CRLF', () => {
    expect(dotStuff(Buffer.from('.a\r\nb\r\n.\r\n..c')).toString()).toBe('..a\r\nb\r\n..\r\n...c\r\n');
    expect(dotStuff(Buffer.from('plain\r\n')).toString()).toBe('plain\r\n');
  });
});

describe('bench/stack results', () => {
  it('marks a run whose load exceeded the CPU count as a development run', () => {
    expect(loadedMachineNote([[1.5, 1, 1]], 2)).toEqual([]);
    expect(
      loadedMachineNote(
        [
          [1.5, 1, 1],
          [6.2, 3, 2],
        ],
        2,
      ).join('\n'),
    ).toMatch(/Development run on a loaded machine.*6\.2 on 2 CPUs/);
  });
});

import { randomBytes } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ContentCollector, IN_PLACE_FROM_BYTES } from '../../../functions/mime/content-collector';

function collect(chunks: Buffer[], maxBytes: number): Buffer {
  const collector = new ContentCollector(maxBytes);
  for (const chunk of chunks) collector.append(chunk);
  expect(collector.length).toBe(chunks.reduce((n, c) => n + c.length, 0));
  return collector.finish();
}

describe('ContentCollector', () => {
  it('returns the chunks joined, byte for byte, for any chunking below and across the in-place threshold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 4_000_000 }),
        (sizes, maxBytes) => {
          const chunks = sizes.map((n) => randomBytes(n));
          expect(collect(chunks, maxBytes).equals(Buffer.concat(chunks))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps large content in place: the result has exactly its length and is a view, not a concatenation', () => {
    const chunks = Array.from({ length: 40 }, () => randomBytes(48 * 1024 + 7));
    const result = collect(chunks, 4 * IN_PLACE_FROM_BYTES);
    expect(result.length).toBe(40 * (48 * 1024 + 7));
    expect(result.equals(Buffer.concat(chunks))).toBe(true);
    // The backing store was shrunk to the content: no step of slack is kept.
    expect(result.buffer.byteLength).toBe(result.length);
  });

  it('moves to a larger store when the content outgrows the stated bound', () => {
    const chunks = Array.from({ length: 5 }, () => randomBytes(IN_PLACE_FROM_BYTES));
    expect(collect(chunks, 2 * IN_PLACE_FROM_BYTES).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('is empty after finish and can collect again', () => {
    const collector = new ContentCollector(10);
    collector.append(Buffer.from('abc'));
    expect(collector.finish().toString()).toBe('abc');
    expect(collector.length).toBe(0);
    collector.append(Buffer.from('de'));
    expect(collector.finish().toString()).toBe('de');
  });
});

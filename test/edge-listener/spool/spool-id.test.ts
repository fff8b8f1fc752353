import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { MESSAGE_ID_PATTERN } from '../../../core/envelope';
import { isSpoolId, newSpoolId, spoolIdTimeMs } from '../../../edge-listener/spool/spool-id';

describe('spool ids', () => {
  it('are valid idempotency keys that encode their time and sort by it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$/),
        (t1, t2, instance) => {
          const a = newSpoolId(instance, t1);
          const b = newSpoolId(instance, t2);
          expect(a).toMatch(MESSAGE_ID_PATTERN);
          expect(isSpoolId(a)).toBe(true);
          expect(spoolIdTimeMs(a)).toBe(t1);
          if (t1 < t2) expect(a < b).toBe(true);
        },
      ),
    );
  });

  it('never repeat within one millisecond, in one process or between two listeners of a site', () => {
    const now = Date.now();
    const ids = new Set<string>();
    for (let i = 0; i < 50_000; i++) ids.add(newSpoolId(i % 2 ? 'edge-a' : 'edge-b', now));
    expect(ids.size).toBe(50_000);
  });

  it('spend all 80 random bits: every character of the random part takes all 32 values', () => {
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let i = 0; i < 5_000; i++) {
      const random = newSpoolId('edge', 0).split('-').at(-1)!;
      expect(random).toHaveLength(16);
      [...random].forEach((ch, pos) => seen[pos]!.add(ch));
    }
    expect(seen.map((s) => s.size)).toEqual(Array(16).fill(32));
  });

  it('reject names that are not spool ids', () => {
    expect(isSpoolId('../../etc/passwd')).toBe(false);
    expect(spoolIdTimeMs('01m8fg6n09-Edge-x7c2egpnkz9g8ex9')).toBeUndefined();
  });
});

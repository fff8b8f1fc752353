import { text } from 'node:stream/consumers';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { HeldMessage } from '../../../edge-listener/spool/held-message';

describe('HeldMessage', () => {
  it('joins, streams and cuts a head from any split into chunks exactly like the whole message', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 6 }),
        fc.nat({ max: 400 }),
        async (message, cuts, headBytes) => {
          const whole = Buffer.from(message);
          const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
          const parts = [0, ...points].map((start, i) => whole.subarray(start, [...points, whole.length][i]));
          const held = new HeldMessage(parts);
          expect(held.length).toBe(whole.length);
          expect(held.join().equals(whole)).toBe(true);
          expect(held.head(headBytes).equals(whole.subarray(0, headBytes))).toBe(true);
          expect(await text(held.stream())).toBe(whole.toString());
        },
      ),
    );
  });

  it('gives copies: changing a head or a joined copy leaves the chunks alone', () => {
    const held = new HeldMessage([Buffer.from('Subject: a\r\n'), Buffer.from('\r\nbody')]);
    held.head(5).fill(0x41);
    held.join().fill(0x42);
    expect(Buffer.concat(held.parts as Buffer[]).toString()).toBe('Subject: a\r\n\r\nbody');
  });
});

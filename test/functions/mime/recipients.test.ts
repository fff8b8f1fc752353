import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { addressKey } from '../../../core/envelope';
import { BridgeError } from '../../../core/errors';
import type { Mailbox } from '../../../functions/mime/address';
import { reconcileRecipients } from '../../../functions/mime/recipients';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof BridgeError ? err.code : 'not a BridgeError';
  }
};

describe('reconcileRecipients', () => {
  it('keeps To and Cc where the envelope has them, adds envelope-only as Bcc and drops header-only', () => {
    const result = reconcileRecipients(['b@x.example', 'hidden@x.example', 'A@X.example'], {
      to: [{ address: 'a@x.example', name: 'Alice' }, { address: 'only-in-header@x.example' }],
      cc: [{ address: 'B@x.example', name: 'Bob' }],
    });
    expect(result.to).toEqual([{ address: 'A@x.example', name: 'Alice' }]);
    expect(result.cc).toEqual([{ address: 'b@x.example', name: 'Bob' }]);
    expect(result.bcc).toEqual([{ address: 'hidden@x.example' }]);
    expect(result.all).toEqual(['b@x.example', 'hidden@x.example', 'A@x.example']);
  });

  it('lists an address named in both To and Cc once, in To', () => {
    const result = reconcileRecipients(['a@x.example'], {
      to: [{ address: 'a@x.example' }],
      cc: [{ address: 'A@X.EXAMPLE' }],
    });
    expect(result).toMatchObject({ to: [{ address: 'a@x.example' }], cc: [], bcc: [] });
  });

  it('collapses duplicate envelope recipients case-insensitively', () => {
    expect(
      reconcileRecipients(['a@x.example', 'A@X.EXAMPLE', '<a@x.example>'], { to: [], cc: [] }).all,
    ).toEqual(['a@x.example']);
  });

  it('refuses no recipients, more than 500, and addresses that cannot be delivered to', () => {
    expect(codeOf(() => reconcileRecipients([], { to: [], cc: [] }))).toBe('NO_RECIPIENTS');
    const many = Array.from({ length: 501 }, (_, i) => `user${i}@x.example`);
    expect(codeOf(() => reconcileRecipients(many, { to: [], cc: [] }))).toBe('TOO_MANY_RECIPIENTS');
    expect(codeOf(() => reconcileRecipients(many.slice(0, 500), { to: [], cc: [] }))).toBeUndefined();
    for (const bad of [
      'no-at-sign',
      'a@localhost',
      'a b@x.example',
      '@x.example',
      'a@',
      'a@-x.example',
      'a..b@x.example',
    ]) {
      expect(
        codeOf(() => reconcileRecipients(['ok@x.example', bad], { to: [], cc: [] })),
        bad,
      ).toBe('RECIPIENT_INVALID');
    }
  });

  // A small pool with case variants, so envelopes and headers overlap, repeat and differ in case.
  const pool = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].flatMap((u) => [
    `${u}@corp.example`,
    `${u.toUpperCase()}@Corp.Example`,
  ]);
  const address = fc.constantFrom(...pool);
  const mailbox: fc.Arbitrary<Mailbox> = fc
    .record({ address, name: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }) })
    .map((m) => (m.name === undefined ? { address: m.address } : { address: m.address, name: m.name }));

  it('property: to ∪ cc ∪ bcc is the envelope set, without duplicates or header-only addresses', () => {
    fc.assert(
      fc.property(
        fc.array(address, { minLength: 1, maxLength: 12 }),
        fc.array(mailbox, { maxLength: 8 }),
        fc.array(mailbox, { maxLength: 8 }),
        (rcpt, to, cc) => {
          const result = reconcileRecipients(rcpt, { to, cc });
          const placed = [...result.to, ...result.cc, ...result.bcc].map((m) => addressKey(m.address));
          const envelopeKeys = new Set(rcpt.map(addressKey));
          expect(new Set(placed)).toEqual(envelopeKeys);
          expect(placed).toHaveLength(envelopeKeys.size);
          expect(result.all.map(addressKey).sort()).toEqual([...envelopeKeys].sort());
          const toKeys = new Set(to.map((m) => addressKey(m.address)));
          const ccKeys = new Set(cc.map((m) => addressKey(m.address)));
          for (const m of result.to) expect(toKeys.has(addressKey(m.address))).toBe(true);
          for (const m of result.cc) expect(ccKeys.has(addressKey(m.address))).toBe(true);
          for (const m of result.bcc)
            expect(toKeys.has(addressKey(m.address)) || ccKeys.has(addressKey(m.address))).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

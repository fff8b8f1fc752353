import { describe, expect, it } from 'vitest';

import { ClientAllowList, DEFAULT_ALLOWED_CLIENTS } from '../../../edge-listener/smtp/client-allow-list';

describe('ClientAllowList', () => {
  it('allows the listed blocks and single addresses, refuses the rest and anything that is not an address', () => {
    const list = new ClientAllowList(['192.168.10.0/24', '10.1.2.3', 'fd00:1::/32']);
    expect(list.allows('192.168.10.77')).toBe(true);
    expect(list.allows('192.168.11.77')).toBe(false);
    expect(list.allows('10.1.2.3')).toBe(true);
    expect(list.allows('10.1.2.4')).toBe(false);
    expect(list.allows('fd00:1::25')).toBe(true);
    expect(list.allows('fd00:2::25')).toBe(false);
    expect(list.allows('not-an-address')).toBe(false);
    expect(list.allows('')).toBe(false);
  });

  it('gives the same answers when asked again, also after more distinct addresses than it remembers', () => {
    const list = new ClientAllowList(DEFAULT_ALLOWED_CLIENTS);
    const addresses = Array.from({ length: 3000 }, (_, i) =>
      i % 2 ? `10.${(i >> 8) & 255}.${i & 255}.1` : `203.0.${(i >> 8) & 255}.${i & 255}`,
    );
    for (let round = 0; round < 2; round++)
      for (const [i, a] of addresses.entries()) expect(list.allows(a), a).toBe(i % 2 === 1);
  });
});

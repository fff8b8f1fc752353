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

  it('lets in only this machine by default: no private range (guest Wi-Fi, VPN pools, a compromised PC)', () => {
    const list = new ClientAllowList(DEFAULT_ALLOWED_CLIENTS);
    for (const local of ['127.0.0.1', '127.8.9.10', '::1']) expect(list.allows(local), local).toBe(true);
    for (const lan of ['192.168.1.20', '10.8.0.6', '172.16.4.4', '169.254.1.1', 'fd00::5', 'fe80::1'])
      expect(list.allows(lan), lan).toBe(false);
  });

  it('gives the same answers when asked again, also after more distinct addresses than it remembers', () => {
    const list = new ClientAllowList(['10.0.0.0/8']);
    const addresses = Array.from({ length: 3000 }, (_, i) =>
      i % 2 ? `10.${(i >> 8) & 255}.${i & 255}.1` : `203.0.${(i >> 8) & 255}.${i & 255}`,
    );
    for (let round = 0; round < 2; round++)
      for (const [i, a] of addresses.entries()) expect(list.allows(a), a).toBe(i % 2 === 1);
  });
});

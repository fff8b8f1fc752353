import { describe, expect, it } from 'vitest';

import { BridgeError } from '../../../core/errors';
import { chooseSender, isSenderAllowed } from '../../../functions/mime/sender-policy';

describe('isSenderAllowed', () => {
  it('matches exact addresses and *@domain entries case-insensitively', () => {
    const list = ['Scanner@Site.Example', '*@Branch.Example'];
    expect(isSenderAllowed('scanner@site.example', list)).toBe(true);
    expect(isSenderAllowed('SCANNER@SITE.EXAMPLE', list)).toBe(true);
    expect(isSenderAllowed('anyone@branch.example', list)).toBe(true);
    expect(isSenderAllowed('Anyone@BRANCH.example', list)).toBe(true);
  });

  it('lets a lone * allow any sender (the sandbox setting)', () => {
    expect(isSenderAllowed('anyone@anywhere.example', ['*'])).toBe(true);
    expect(chooseSender('copier@vendor.example', '', { allowedSenders: ['*'] })).toEqual({
      mailbox: 'copier@vendor.example',
      senderRewritten: false,
    });
  });

  it('does not let *@domain match a subdomain, a lookalike or another local part', () => {
    const list = ['scanner@site.example', '*@branch.example'];
    expect(isSenderAllowed('x@sub.branch.example', list)).toBe(false);
    expect(isSenderAllowed('x@evilbranch.example', list)).toBe(false);
    expect(isSenderAllowed('other@site.example', list)).toBe(false);
    expect(isSenderAllowed('scanner@site.example', [])).toBe(false);
    expect(isSenderAllowed('scanner@site.example', ['', '  '])).toBe(false);
  });
});

describe('chooseSender', () => {
  const policy = { allowedSenders: ['*@site.example'], defaultSender: 'relay@site.example' };

  it('sends as an allowed From address, normalised', () => {
    expect(chooseSender('Scanner@SITE.example', 'bounce@elsewhere.example', policy)).toEqual({
      mailbox: 'Scanner@site.example',
      senderRewritten: false,
    });
  });

  it('sends as the default mailbox and remembers the original sender when From is not allowed', () => {
    expect(chooseSender('copier@vendor.example', 'copier@vendor.example', policy)).toEqual({
      mailbox: 'relay@site.example',
      senderRewritten: true,
      originalSender: 'copier@vendor.example',
    });
  });

  it('does not let an allowed MAIL FROM override a From that is present but not allowed', () => {
    expect(chooseSender('copier@vendor.example', 'scanner@site.example', policy).mailbox).toBe(
      'relay@site.example',
    );
  });

  it('falls back to MAIL FROM when From is missing or not deliverable', () => {
    expect(chooseSender(undefined, 'scanner@site.example', policy)).toEqual({
      mailbox: 'scanner@site.example',
      senderRewritten: false,
    });
    expect(chooseSender('Scan@HQ', 'scanner@site.example', policy).mailbox).toBe('scanner@site.example');
  });

  it('uses the default mailbox without an original sender when neither From nor MAIL FROM has an address', () => {
    expect(chooseSender(undefined, '', policy)).toEqual({
      mailbox: 'relay@site.example',
      senderRewritten: true,
    });
  });

  it('refuses with SENDER_NOT_ALLOWED when there is no default mailbox', () => {
    const strict = { allowedSenders: ['*@site.example'] };
    expect(() => chooseSender('copier@vendor.example', '', strict)).toThrow(BridgeError);
    try {
      chooseSender(undefined, '', strict);
    } catch (err) {
      expect((err as BridgeError).code).toBe('SENDER_NOT_ALLOWED');
      expect((err as BridgeError).smtp).toEqual({ reply: 550, enhanced: '5.7.1' });
    }
  });
});

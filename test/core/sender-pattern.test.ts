import { describe, expect, it } from 'vitest';

import { matchesSenderPattern, SenderPatterns, senderPatternProblem } from '../../core/sender-pattern';

/** The one sender-pattern syntax of edge filter, device bindings and the function's site policy. */
describe('sender patterns', () => {
  it('accepts user@domain, *@domain, * and <>, and nothing else', () => {
    for (const ok of ['scanner@contoso.com', '*@contoso.com', '*', '<>', ' Scanner@Contoso.com '])
      expect(senderPatternProblem(ok), ok).toBeUndefined();
    for (const bad of [
      '',
      'contoso.com',
      '*@*',
      'a@b@c',
      'a b@c.d',
      '*.contoso.com',
      'x@*.contoso.com',
      '<a@b.c>',
    ])
      expect(senderPatternProblem(bad), bad).toMatch(/is not a sender pattern/);
  });

  it('matches case-insensitively; *@domain is that domain only; * is anyone but not the null sender', () => {
    const p = new SenderPatterns(['Scanner@Contoso.com', '*@Scans.Contoso.com']);
    expect(p.matches('scanner@contoso.com')).toBe(true);
    expect(p.matches('SCANNER@CONTOSO.COM')).toBe(true);
    expect(p.matches('q4@scans.contoso.com')).toBe(true);
    expect(p.matches('q4@sub.scans.contoso.com')).toBe(false);
    expect(p.matches('q4@evilscans.contoso.com')).toBe(false);
    expect(p.matches('ceo@contoso.com')).toBe(false);
    expect(p.matches('')).toBe(false);
    expect(matchesSenderPattern('anyone@anywhere.example', ['*'])).toBe(true);
    expect(matchesSenderPattern('', ['*'])).toBe(false);
    expect(matchesSenderPattern('', ['<>'])).toBe(true);
    expect(matchesSenderPattern('x@y.z', [])).toBe(false);
    expect(new SenderPatterns([]).isEmpty).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';

import { contentDisposition } from '../../../edge-listener/status-page/status-page';

describe('contentDisposition', () => {
  it('gives an ASCII fallback without quotes or slashes and the exact name in UTF-8', () => {
    expect(contentDisposition('Scan "1"/..\\März.pdf')).toBe(
      `attachment; filename="Scan _1__.._M_rz.pdf"; filename*=UTF-8''${encodeURIComponent('Scan "1"/..\\März.pdf')}`,
    );
  });

  it('cannot be broken by line breaks or header syntax in the name', () => {
    const value = contentDisposition('a"; filename=evil.exe\r\nSet-Cookie: x=y');
    expect(value).not.toMatch(/[\r\n]/);
    expect(
      value.startsWith('attachment; filename="a_; filename=evil.exe__Set-Cookie: x=y"; filename*=UTF-8\'\''),
    ).toBe(true);
  });
});

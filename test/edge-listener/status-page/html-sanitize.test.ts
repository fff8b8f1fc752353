import { describe, expect, it } from 'vitest';

import { sanitizeHtml } from '../../../edge-listener/status-page/html-sanitize';

/** The preview's second wall (the first is the sandbox CSP): whatever goes in, only inert markup comes out. */
describe('sanitizeHtml', () => {
  it('keeps ordinary mail formatting', () => {
    const html =
      '<div align="center"><p>Hello <b>world</b> &amp; <i>friends</i></p><table border="1"><tr><td colspan="2">cell</td></tr></table><br/></div>';
    expect(sanitizeHtml(html)).toBe(
      '<div align="center"><p>Hello <b>world</b> &amp; <i>friends</i></p><table border="1"><tr><td colspan="2">cell</td></tr></table><br></div>',
    );
  });

  it.each([
    ['a script element and its content', '<p>a</p><script>alert(1)</script><p>b</p>', '<p>a</p><p>b</p>'],
    [
      'a script that hides its end tag in a string',
      '<script>var s="</scr"+"ipt>"; alert(1)</script>ok',
      'ok',
    ],
    ['event handlers', '<p onclick="alert(1)" onmouseover=alert(2)>x</p>', '<p>x</p>'],
    [
      'a javascript: link, also when encoded',
      '<a href="jav&#x61;script:alert(1)">a</a><a href=" javascript:alert(1)">b</a>',
      '<a>a</a><a>b</a>',
    ],
    ['remote images (tracking pixels)', '<img src="https://tracker.example/p.gif" alt="x">', ''],
    [
      'iframes, objects, embedded SVG with script',
      '<iframe src="https://x"></iframe><object data="x"></object><svg><script>alert(1)</script><svg></svg></svg>after',
      'after',
    ],
    [
      'forms and their controls, keeping the text',
      '<form action="https://x"><input name="p">label</form>',
      'label',
    ],
    [
      'meta refresh and base',
      '<meta http-equiv="refresh" content="0;url=https://x"><base href="https://x">t',
      't',
    ],
    [
      'CSS that loads or runs something',
      '<p style="background:url(https://x/p.gif)">a</p><style>@import "https://x";</style>',
      '<p>a</p><style></style>',
    ],
    [
      'CSS that hides url( behind CSS escapes (hex with its space, hex run, escaped letter)',
      '<p style="background:\\75 rl(https://x/p.gif)">a</p><p style="background:\\000075rl(https://x)">b</p>' +
        '<style>p{background:u\\rl(https://x/p.gif)}</style><style>@\\69mport "https://x";</style>',
      '<p>a</p><p>b</p><style></style><style></style>',
    ],
    [
      'CSS that hides url( after a comment opener inside a string',
      '<style>p{content:"/*"}p{background:url(https://x)}p{content:"*/"}</style>',
      '<style></style>',
    ],
    [
      'harmless CSS with an escape stays',
      '<p style="content:\'\\2014\'">a</p>',
      '<p style="content:\'\\2014\'">a</p>',
    ],
    [
      'an attribute value that tries to break out',
      '<p title="a&quot; onclick=&quot;alert(1)">x</p>',
      '<p title="a&quot; onclick=&quot;alert(1)">x</p>',
    ],
    ['a tag split by a > inside a quoted attribute', '<img alt="a>b" onerror="alert(1)" src="x">', ''],
    [
      'broken markup (the script becomes an attribute name, dropped)',
      '<p <script>alert(1)</script>',
      '<p>alert(1)',
    ],
    ['comments and conditional comments', '<!--[if IE]><script>alert(1)</script><![endif]-->x', 'x'],
  ])('removes %s', (_what, input, expected) => {
    expect(sanitizeHtml(input)).toBe(expected);
  });

  it('keeps embedded images and safe links', () => {
    expect(
      sanitizeHtml(
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="logo"><a href="https://example.com/?a=1&b=2">site</a>',
      ),
    ).toBe(
      '<img src="data:image/png;base64,iVBORw0KGgo=" alt="logo"><a href="https://example.com/?a=1&amp;b=2">site</a>',
    );
  });

  it('never lets a < from the input start a tag of its own', () => {
    const out = sanitizeHtml('a < b > c <<script>script>alert(1)<</script>/script>');
    expect(out).not.toMatch(/<script/i);
    expect(out.replace(/<\/?[a-z]+[^>]*>/g, '')).not.toContain('<');
  });
});

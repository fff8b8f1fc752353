/**
 * An allow-list HTML sanitizer for previewing message bodies on the status page. It is the second of two
 * walls: the preview is served with `Content-Security-Policy: sandbox` (no scripts, opaque origin, nothing
 * loaded from anywhere) inside an `<iframe sandbox>`, so even markup that slipped through could not run.
 *
 * Every tag in the output is rebuilt here from an allowed name and allowed attributes with re-escaped
 * values; everything else is text with `<` and `>` escaped. Elements that only make sense with scripts or
 * embedding (script, iframe, object, svg, …) are dropped with their content. Links keep their address for
 * reading but cannot be followed from the sandbox; images show only when embedded (data:/cid:), so a
 * preview never calls a tracking pixel.
 */
const ALLOWED_TAGS = new Set([
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'caption',
  'center',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'div',
  'dl',
  'dt',
  'em',
  'font',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'ins',
  'kbd',
  'li',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'tt',
  'u',
  'ul',
  'style',
]);
const DROP_WITH_CONTENT = new Set([
  'script',
  'iframe',
  'object',
  'embed',
  'applet',
  'noscript',
  'template',
  'frame',
  'frameset',
  'svg',
  'math',
  'title',
  'select',
  'xml',
]);
const VOID_TAGS = new Set(['br', 'col', 'hr', 'img']);
const ALLOWED_ATTRIBUTES = new Set([
  'align',
  'alt',
  'bgcolor',
  'border',
  'cellpadding',
  'cellspacing',
  'class',
  'color',
  'colspan',
  'dir',
  'face',
  'height',
  'href',
  'lang',
  'rowspan',
  'size',
  'src',
  'style',
  'title',
  'valign',
  'width',
]);
const SAFE_HREF = /^(https?:|mailto:|#)/i;
const SAFE_IMG_SRC = /^(data:image\/(png|gif|jpe?g|webp);base64,|cid:)/i;
const UNSAFE_CSS = /url\s*\(|expression\s*\(|@import|javascript:|behaviou?r\s*:|-moz-binding|<\//i;

const TAG =
  /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/y;
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const SKIPPED = [/<!--[\s\S]*?(?:-->|$)/y, /<![^>]*>?/y, /<\?[^>]*>?/y];

export function sanitizeHtml(html: string): string {
  let out = '';
  let dropping: string | undefined;
  let depth = 0;
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      if (!dropping) out += escapeText(html.slice(i));
      break;
    }
    if (!dropping) out += escapeText(html.slice(i, lt));
    i = lt;
    const skipped = skip(html, i);
    if (skipped > i) {
      i = skipped;
      continue;
    }
    TAG.lastIndex = i;
    const m = TAG.exec(html);
    if (!m) {
      if (!dropping) out += '&lt;';
      i++;
      continue;
    }
    i = TAG.lastIndex;
    const closing = m[1] === '/';
    const name = (m[2] ?? '').toLowerCase();
    if (dropping) {
      // Nested elements of the same name (an <svg> inside an <svg>) keep the drop going.
      if (name === dropping) depth += closing ? -1 : 1;
      if (depth === 0) dropping = undefined;
      continue;
    }
    if (DROP_WITH_CONTENT.has(name)) {
      if (!closing && !m[0].endsWith('/>')) {
        dropping = name;
        depth = 1;
      }
      continue;
    }
    if (!ALLOWED_TAGS.has(name)) continue; // html, body, form, input, meta, link, base…: tag gone, text kept
    if (closing) {
      if (!VOID_TAGS.has(name)) out += `</${name}>`;
      continue;
    }
    const attrs = attributes(name, m[3] ?? '');
    if (name === 'img' && !attrs.includes(' src="')) continue; // a remote image would only show as broken
    out += `<${name}${attrs}>`;
    if (name === 'style') i = copyStyle(html, i, (css) => (out += css));
  }
  return out;
}

function skip(html: string, at: number): number {
  for (const pattern of SKIPPED) {
    pattern.lastIndex = at;
    if (pattern.exec(html)) return pattern.lastIndex;
  }
  return at;
}

/** The text of a <style> element up to its end tag, kept only when it loads and runs nothing. */
function copyStyle(html: string, from: number, emit: (css: string) => void): number {
  const end = html.toLowerCase().indexOf('</style', from);
  const css = html.slice(from, end < 0 ? html.length : end);
  if (cssIsSafe(css)) emit(css.replace(/[<>]/g, ''));
  return end < 0 ? html.length : end;
}

function attributes(tag: string, source: string): string {
  let out = '';
  for (const m of source.matchAll(ATTRIBUTE)) {
    const name = (m[1] ?? '').toLowerCase();
    const value = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '').trim();
    if (!ALLOWED_ATTRIBUTES.has(name)) continue;
    if (name === 'href' && (tag !== 'a' || !SAFE_HREF.test(value.replace(/\s+/g, '')))) continue;
    if (name === 'src' && (tag !== 'img' || !SAFE_IMG_SRC.test(value))) continue;
    if (name === 'style' && !cssIsSafe(value)) continue;
    out += ` ${name}="${escapeAttribute(value)}"`;
  }
  return out;
}

/**
 * Whether CSS loads and runs nothing. CSS escapes are resolved first (`\75 rl(` is `url(` to a browser), so
 * the check sees the words the browser's tokenizer will. Comments are left in: a `/*` inside a string is no
 * comment, and removing it could hide what follows.
 */
function cssIsSafe(css: string): boolean {
  return !UNSAFE_CSS.test(decodeCss(css));
}

/** CSS Syntax §4.3.7: `\` + 1–6 hex digits (+ one white space) is that code point; `\` + another character is it. */
export function decodeCss(css: string): string {
  return css.replace(
    /\\([0-9a-f]{1,6})(?:\r\n|[ \t\r\n\f])?|\\([\s\S])/gi,
    (_, hex: string | undefined, other: string | undefined) =>
      hex !== undefined ? safeChar(parseInt(hex, 16)) || '\ufffd' : other === '\n' ? '' : (other ?? ''),
  );
}

/** Enough decoding that `jav&#x61;script:` is seen for what it is before the scheme check. */
function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);?/gi, (_, hex: string) => safeChar(parseInt(hex, 16)))
    .replace(/&#(\d+);?/g, (_, dec: string) => safeChar(parseInt(dec, 10)))
    .replace(
      /&(colon|tab|newline|quot|apos|lt|gt|amp);/gi,
      (_, n: string) =>
        ({ colon: ':', tab: '\t', newline: '\n', quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' })[
          n.toLowerCase()
        ] ?? '',
    );
}

function safeChar(code: number): string {
  return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
}

function escapeText(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

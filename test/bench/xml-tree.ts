/**
 * A strict parser for the XML the chart generator writes (elements, attributes, text, comments, an optional
 * prolog): it throws on anything not well-formed — unclosed or crossed tags, unquoted or duplicate attributes, a
 * bare `&` or `<`, unknown entities, a second root — and returns the element tree for the tests to query.
 * The repository has no XML parser dependency; SVG needs no DTDs, CDATA or namespaces resolution here.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][\w.:-]*/y;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

function decode(raw: string, where: number): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '<') throw new Error(`bare '<' at ${where + i}`);
    if (c !== '&') {
      out += c;
      continue;
    }
    ENTITY.lastIndex = i;
    const m = ENTITY.exec(raw);
    if (!m) throw new Error(`bare '&' or unknown entity at ${where + i}`);
    const e = m[0].slice(1, -1);
    out +=
      e === 'amp'
        ? '&'
        : e === 'lt'
          ? '<'
          : e === 'gt'
            ? '>'
            : e === 'quot'
              ? '"'
              : e === 'apos'
                ? "'"
                : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    i += m[0].length - 1;
  }
  return out;
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(xml);
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };
  const space = () => {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated prolog');
    i = end + 2;
  }
  while (i < xml.length) {
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (xml.startsWith('</', i)) {
      i += 2;
      const closing = name();
      space();
      if (xml[i] !== '>') fail('expected > after closing tag');
      i++;
      const open = stack.pop();
      if (!open || open.name !== closing) fail(`</${closing}> does not close <${open?.name ?? '(nothing)'}>`);
    } else if (xml[i] === '<') {
      i++;
      if (stack.length === 0 && root) fail('a second root element');
      const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
      for (;;) {
        const before = i;
        space();
        if (xml.startsWith('/>', i) || xml[i] === '>') break;
        if (i === before) fail('expected whitespace before an attribute');
        const attr = name();
        space();
        if (xml[i] !== '=') fail(`attribute ${attr} without =`);
        i++;
        space();
        const quote = xml[i];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} is not quoted`);
        const end = xml.indexOf(quote!, i + 1);
        if (end < 0) fail('unterminated attribute value');
        if (attr in el.attrs) fail(`duplicate attribute ${attr}`);
        el.attrs[attr] = decode(xml.slice(i + 1, end), i + 1);
        i = end + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else root = el;
      if (xml.startsWith('/>', i)) i += 2;
      else {
        i++;
        stack.push(el);
      }
    } else {
      const end = xml.indexOf('<', i);
      const raw = xml.slice(i, end < 0 ? xml.length : end);
      const parent = stack[stack.length - 1];
      if (!parent) {
        if (raw.trim()) fail('text outside the root element');
      } else parent.text += decode(raw, i);
      i += raw.length;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element under (and including) el with this name. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => findAll(c, name))];
}

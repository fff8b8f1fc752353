import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ERROR_TABLE } from '../../../core/errors';
import { LOG_EVENTS } from '../../../core/log';

/**
 * The admin documentation may only claim what the code does: every error code is placed in the
 * troubleshooting guide, metric and log-event names in the monitoring guide exist, the index lists every
 * page, and every relative link (with its #anchor) resolves.
 */
const root = join(__dirname, '..', '..', '..');
const docs = join(root, 'docs');
const read = (file: string) => readFileSync(file, 'utf8');
const ADMIN_DOCS = [
  'README.md',
  'entra-app-and-consent.md',
  'mailbox-scoping.md',
  'monitoring.md',
  'troubleshooting.md',
  'security-model.md',
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    out.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return out;
}

describe('admin documentation', () => {
  it('places every error code of ERROR_TABLE in the troubleshooting guide', () => {
    const text = read(join(docs, 'troubleshooting.md'));
    const missing = Object.keys(ERROR_TABLE).filter((code) => !text.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('names only metrics the edge listener exports and log events that exist', () => {
    const text = read(join(docs, 'monitoring.md'));
    const source = readdirSync(join(root, 'edge-listener', 'metrics'))
      .map((f) => read(join(root, 'edge-listener', 'metrics', f)))
      .join('\n');
    const metrics = new Set(
      [...text.matchAll(/\b(bridge_edge_[a-z_]+|process_[a-z_]+)\b/g)].map((m) => m[1]!),
    );
    expect(metrics.size).toBeGreaterThan(10);
    for (const name of metrics) expect(source, name).toContain(`'${name}'`);
    // Quoted names in the queries are log events or error codes.
    const names = new Set([...text.matchAll(/"([A-Z][A-Z_]+)"/g)].map((m) => m[1]!));
    expect(names.size).toBeGreaterThan(10);
    for (const name of names)
      expect(Object.hasOwn(LOG_EVENTS, name) || Object.hasOwn(ERROR_TABLE, name), name).toBe(true);
  });

  it('indexes every page in docs/README.md', () => {
    const index = read(join(docs, 'README.md'));
    const pages = readdirSync(docs).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(pages.filter((p) => !index.includes(`](${p})`))).toEqual([]);
  });

  it.each(ADMIN_DOCS)('%s links only to files and headings that exist', (page) => {
    const file = join(docs, page);
    for (const m of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/.test(link)) continue;
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path ? join(dirname(file), path) : file;
      expect(existsSync(target), `${page} → ${link}`).toBe(true);
      if (anchor && target.endsWith('.md'))
        expect(anchors(read(target)).has(anchor), `${page} → ${link}`).toBe(true);
    }
  });
});

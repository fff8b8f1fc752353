import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ERROR_TABLE } from '../../core/errors';
import { allGeneratedDocs } from '../../scripts/gen-docs';

const root = join(__dirname, '..', '..');

describe('generated reference docs', () => {
  const docs = allGeneratedDocs();

  it.each(Object.keys(docs))('%s is up to date (run `npm run docs`)', (file) => {
    expect(readFileSync(join(root, file), 'utf8')).toBe(docs[file]);
  });

  it('lists every error code with its SMTP reply and hint', () => {
    const md = docs['docs/error-codes.md']!;
    for (const [code, row] of Object.entries(ERROR_TABLE)) {
      expect(md).toContain(`| \`${code}\` | ${row.reply} ${row.enhanced} |`);
    }
  });
});

/** Every Bicep template the project ships: main.bicep and its local modules. */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

import { INFRA_DIR } from './paths';

/** Glob (relative to the repository root) of every shipped template, for `bicep lint --pattern`. */
export const TEMPLATE_PATTERN = 'infra/**/*.bicep';

export function listTemplates(dir: string = INFRA_DIR): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listTemplates(path));
    else if (entry.name.endsWith('.bicep')) found.push(path);
  }
  return found.sort();
}

export function displayPath(path: string): string {
  return relative(join(INFRA_DIR, '..'), path);
}

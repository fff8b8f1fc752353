import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { toolPath } from './tool-probe';

/**
 * The team's MIME corpus: 141 real-world and hostile messages, third-party files under their own licences,
 * so it stays beside the checkout (../shared/corpus/mime, or BRIDGE_TEST_CORPUS_DIR) and is never copied in.
 * Tests that read it sit in a `describeWithTool('mime-corpus', …)` / `itWithTool` block (tool-groups.ts).
 * Our own MIME fixtures, which every clone has, are in test/fixtures/mime/.
 */
export function corpusPath(file: string): string {
  return join(toolPath('mime-corpus'), file);
}

/** A corpus file's bytes. */
export function corpusFile(file: string): Buffer {
  return readFileSync(corpusPath(file));
}

/** Every .eml file of the corpus, by name. */
export function corpusFiles(): string[] {
  return readdirSync(toolPath('mime-corpus')).filter((f) => f.endsWith('.eml'));
}

import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { build } from 'esbuild';

import { embeddableAssets } from '../status-page/static-assets';

/**
 * The single-file build of the edge listener: one CommonJS file with every dependency inside, that needs
 * only Node (20 or 22) — what the container, the systemd unit and the Windows service run, and what a site
 * without npm access gets copied. `npm run build:edge` writes dist/edge-listener.cjs.
 */
const ROOT = join(__dirname, '..', '..');
export const DEFAULT_BUNDLE = join(ROOT, 'dist', 'edge-listener.cjs');

export async function buildEdgeBundle(outfile: string = DEFAULT_BUNDLE): Promise<{ outfile: string; bytes: number }> {
  await build({
    entryPoints: [join(ROOT, 'edge-listener', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    // The oldest Node the project supports; the deployed one is 22.
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    // Keep function and class names: stack traces from a site must be readable.
    minify: false,
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'error',
    // The status page's files go inside the bundle too (static-assets.ts reads them from this constant).
    define: { __STATUS_PAGE_ASSETS__: JSON.stringify(embeddableAssets()) },
  });
  chmodSync(outfile, 0o755);
  return { outfile, bytes: statSync(outfile).size };
}

if (require.main === module) {
  buildEdgeBundle(process.argv[2]).then(
    ({ outfile, bytes }) => console.log(`wrote ${outfile} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

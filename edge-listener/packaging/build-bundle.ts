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

const common = {
  bundle: true,
  platform: 'node',
  // The oldest Node the project supports; the deployed one is 22.
  target: 'node20',
  format: 'cjs',
  // Keep function and class names: stack traces from a site must be readable.
  minify: false,
  keepNames: true,
  legalComments: 'eof',
  logLevel: 'error',
} as const;

export async function buildEdgeBundle(
  outfile: string = DEFAULT_BUNDLE,
): Promise<{ outfile: string; bytes: number }> {
  await build({
    ...common,
    entryPoints: [join(ROOT, 'edge-listener', 'cli', 'main.ts')],
    outfile,
    banner: { js: '#!/usr/bin/env node' },
    define: {
      // The status page's files go inside the bundle too (static-assets.ts reads them from this constant).
      __STATUS_PAGE_ASSETS__: JSON.stringify(embeddableAssets()),
      // The forwarding thread's code, built on its own: a thread that loaded the whole listener would
      // carry ~40 MB it never uses (threaded-function-client.ts starts it from this string).
      __FORWARD_WORKER_SOURCE__: JSON.stringify(await forwardWorkerSource()),
    },
  });
  chmodSync(outfile, 0o755);
  return { outfile, bytes: statSync(outfile).size };
}

/** forward-worker.ts and what it imports, as the text of one CommonJS script. */
async function forwardWorkerSource(): Promise<string> {
  const result = await build({
    ...common,
    entryPoints: [join(ROOT, 'edge-listener', 'forward', 'forward-worker.ts')],
    write: false,
    outfile: 'forward-worker.cjs',
  });
  return result.outputFiles[0]!.text;
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

import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { build, type Plugin } from 'esbuild';

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
  const result = await build({
    ...common,
    entryPoints: [join(ROOT, 'edge-listener', 'cli', 'main.ts')],
    outfile,
    write: false,
    banner: { js: '#!/usr/bin/env node' },
    define: {
      // The status page's files go inside the bundle too (static-assets.ts reads them from this constant).
      __STATUS_PAGE_ASSETS__: JSON.stringify(embeddableAssets()),
      // The forwarding thread's code, built on its own: a thread that loaded the whole listener would
      // carry ~40 MB it never uses (threaded-function-client.ts starts it from this string).
      __FORWARD_WORKER_SOURCE__: JSON.stringify(await forwardWorkerSource()),
    },
  });
  writeFileSync(outfile, asciiOnly(result.outputFiles[0]!.text));
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
    plugins: [noZodInThread],
  });
  return result.outputFiles[0]!.text;
}

/**
 * V8 keeps a script's source in memory for as long as the process runs, and one character outside ASCII
 * (a "—" in a comment) makes it store all 3.6 million characters at two bytes each: 3.5 MiB of RSS for
 * nothing (docs/design/edge-memory.md). esbuild escapes non-ASCII in strings, regular expressions and
 * identifiers already (charset ascii, its default), so what is left is in comments, where an escape is text.
 */
export function asciiOnly(js: string): string {
  return js.replace(/[^\p{ASCII}]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/**
 * The thread imports core/wire.ts for framing and signing; that module also holds the frame decoder (the
 * function's side), whose envelope schema pulls in zod — 730 KB of code that costs the thread's V8 heap about
 * 10 MiB (docs/design/edge-memory.md). The thread never validates an envelope, so its build gets an inert
 * stand-in for zod: building a schema does nothing, and validating with one throws, loudly.
 */
const noZodInThread: Plugin = {
  name: 'no-zod-in-forwarding-thread',
  setup(b) {
    b.onResolve({ filter: /^zod(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'no-zod' }));
    b.onLoad({ filter: /.*/, namespace: 'no-zod' }, () => ({
      loader: 'js',
      contents: `
        const inert = new Proxy(function () {}, {
          get(_, key) {
            if (key === 'parse' || key === 'safeParse' || key === 'parseAsync' || key === 'safeParseAsync')
              throw new Error('zod is not part of the forwarding thread (edge-listener/packaging/build-bundle.ts)');
            return inert;
          },
          apply() { return inert; },
        });
        module.exports = { z: inert, default: inert };
      `,
    }));
  },
};

if (require.main === module) {
  buildEdgeBundle(process.argv[2]).then(
    ({ outfile, bytes }) => console.log(`wrote ${outfile} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

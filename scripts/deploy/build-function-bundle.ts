/**
 * The function app as an esbuild bundle (docs/design/cold-start.md): functions/index.ts and everything it
 * imports, dependencies included, as ES modules split at every dynamic import(). The entry chunk holds only
 * what registering the functions needs; the handlers, the Azure SDKs, mailparser and zod sit in chunks that
 * the first invocation imports. A cold start then reads a few hundred kilobytes instead of loading ~40 MB of
 * node_modules.
 *
 * `@azure/functions-core` stays external: it is not an npm package but a module the Functions Node.js worker
 * provides at run time, through which @azure/functions (bundled here) registers the app. Outside a host it
 * is missing and @azure/functions runs in its "test mode", which is how tests and the bench load the entry.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

import { buildSync } from 'esbuild';

/** The entry chunk, relative to the package root: the staged package.json's "main". */
export const FUNCTION_ENTRY = 'dist/functions/index.mjs';
/** Modules the host provides; everything else is inside the bundle. */
export const HOST_PROVIDED = ['@azure/functions-core'];

export interface FunctionBundle {
  /** Files written, relative to the package root (forward slashes), sorted. */
  files: string[];
  bytes: number;
  /** Source files inside the bundle, relative to the repository root (forward slashes). */
  inputs: string[];
}

/** Bundles `<repoRoot>/functions/index.ts` into `<packageRoot>/dist/functions/`. */
export function buildFunctionBundle(repoRoot: string, packageRoot: string): FunctionBundle {
  const outdir = join(packageRoot, 'dist', 'functions');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = buildSync({
    absWorkingDir: repoRoot,
    entryPoints: { index: join(repoRoot, 'functions', 'index.ts') },
    bundle: true,
    platform: 'node',
    // The oldest Node the project supports; Flex Consumption runs 20 or 22.
    target: 'node20',
    format: 'esm',
    splitting: true,
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    external: HOST_PROVIDED,
    // Keep function and class names: stack traces in Application Insights must be readable.
    minify: false,
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'error',
    metafile: true,
    // CommonJS dependencies inside an ES module still call require() (node: built-ins, the host's module).
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
  });
  const files = Object.keys(result.metafile.outputs)
    .map((path) => relative(packageRoot, join(repoRoot, path)).split(sep).join('/'))
    .sort();
  const bytes = files.reduce((sum, file) => sum + statSync(join(packageRoot, file)).size, 0);
  const inputs = Object.keys(result.metafile.inputs).sort();
  return { files, bytes, inputs };
}

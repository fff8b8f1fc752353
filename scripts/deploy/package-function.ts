/**
 * npm run package:function — builds the zip that Flex Consumption runs (learn.microsoft.com/azure/azure-functions/
 * flex-consumption-how-to "deploy your code project"): host.json, a package.json whose "main" is the bundle's
 * entry, and the esbuild bundle of the app (build-function-bundle.ts) — no node_modules: every dependency is
 * inside the bundle, split so that a cold start loads only the entry chunk (docs/design/cold-start.md). Output:
 *   .build/function/      the staged folder (azd deploys this: azure.yaml `dist`)
 *   .build/function.zip   the same as a zip (az functionapp deployment source config-zip, CI/CD)
 *
 * The bundle is made from the installed node_modules, so packaging needs no registry access and ships exactly
 * the versions the tests ran with. Nothing in it is platform-specific (no native addons).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { buildFunctionBundle, FUNCTION_ENTRY } from './build-function-bundle';
import { zipFolder } from './zip-folder';

/** Files at the package root the Functions host reads, copied as they are. */
export const ROOT_FILES = ['host.json'];

interface RootPackageJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  engines?: Record<string, string>;
}

export interface PackageFunctionOptions {
  repoRoot: string;
  /** Where .build/ goes (default: the repository); tests and the bench package into a temporary folder. */
  outRoot?: string;
}

export interface PackageFunctionResult {
  folder: string;
  zipPath: string;
  /** The staged package.json's "main", relative to the folder. */
  entry: string;
  /** Source files inside the bundle, relative to the repository root. */
  inputs: string[];
  bundleBytes: number;
  zipEntries: number;
  zipBytes: number;
}

/**
 * The package.json the host reads: its "main" and the Node engine. No dependencies: the bundle holds them,
 * and the host runs no npm install (azure.yaml: remoteBuild false).
 */
export function stagedPackageJson(root: RootPackageJson): string {
  const pkg = {
    name: root.name,
    version: root.version,
    private: true,
    ...(root.description ? { description: root.description } : {}),
    ...(root.license ? { license: root.license } : {}),
    ...(root.engines ? { engines: root.engines } : {}),
    main: FUNCTION_ENTRY,
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

export function packageFunction({
  repoRoot,
  outRoot = join(repoRoot, '.build'),
}: PackageFunctionOptions): PackageFunctionResult {
  const folder = join(outRoot, 'function');
  const zipPath = join(outRoot, 'function.zip');
  rmSync(folder, { recursive: true, force: true });
  rmSync(zipPath, { force: true });
  mkdirSync(folder, { recursive: true });

  for (const file of ROOT_FILES) writeFileSync(join(folder, file), readFileSync(join(repoRoot, file)));
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as RootPackageJson;
  writeFileSync(join(folder, 'package.json'), stagedPackageJson(root));
  const bundle = buildFunctionBundle(repoRoot, folder);

  const zip = zipFolder(folder, zipPath);
  return {
    folder,
    zipPath,
    entry: FUNCTION_ENTRY,
    inputs: bundle.inputs,
    bundleBytes: bundle.bytes,
    zipEntries: zip.entries,
    zipBytes: zip.bytes,
  };
}

if (require.main === module) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      'usage: npm run package:function\n\n' +
        'Bundles the function app (esbuild) and writes .build/function/ and .build/function.zip,\n' +
        'the package Flex Consumption runs. Builds from the sources and the installed node_modules;\n' +
        '--no-build is accepted for compatibility and changes nothing.\n',
    );
    process.exit(0);
  }
  const repoRoot = resolve(__dirname, '..', '..');
  const result = packageFunction({ repoRoot });
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  console.log(`staged ${result.folder} (bundle ${kib(result.bundleBytes)}, entry ${result.entry})`);
  console.log(`wrote ${result.zipPath} (${result.zipEntries} files, ${kib(result.zipBytes)})`);
}

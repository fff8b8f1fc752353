/**
 * npm run package:function — builds the zip that Flex Consumption runs (learn.microsoft.com/azure/azure-functions/
 * flex-consumption-how-to "deploy your code project"): host.json, package.json and the compiled code at the
 * root, plus node_modules with the production dependencies only. Output:
 *   .build/function/      the staged folder (azd deploys this: azure.yaml `dist`)
 *   .build/function.zip   the same as a zip (az functionapp deployment source config-zip, CI/CD)
 *
 * Production dependencies are copied from the installed node_modules using package-lock.json's own marks
 * (`dev: true`), so packaging needs no registry access and ships exactly the versions the tests ran with.
 * Build on Linux x64: the Flex Consumption workers are Linux, and a platform-specific optional dependency
 * installed on another OS would be the wrong binary.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { zipFolder } from './zip-folder';

/** Compiled folders the function needs: its own code and core/ (functions/ never imports edge-listener/). */
export const DIST_FOLDERS = ['dist/functions', 'dist/core'];
/** Files at the package root the Functions host reads. */
export const ROOT_FILES = ['host.json', 'package.json'];

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

interface PackageLock {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/**
 * The top-level node_modules folders to ship: every package the lockfile does not mark dev-only. Nested
 * node_modules come along inside their parent. Optional packages not installed here (other platforms) are
 * left out by the caller.
 */
export function productionPackages(lock: PackageLock): string[] {
  if (lock.lockfileVersion < 2) throw new Error('package-lock.json v2 or later is needed (npm 7+)');
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !entry.dev && !entry.link)
    .map(([path]) => path)
    .filter((path) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
    .sort();
}

export interface PackageFunctionOptions {
  repoRoot: string;
  /** Run `npm run build` first (the CLI does; tests hand in an already compiled tree). */
  build: boolean;
}

export interface PackageFunctionResult {
  folder: string;
  zipPath: string;
  packages: string[];
  zipEntries: number;
  zipBytes: number;
}

export function packageFunction({ repoRoot, build }: PackageFunctionOptions): PackageFunctionResult {
  if (build) {
    const result = spawnSync('npm', ['run', 'build'], {
      cwd: repoRoot,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    if (result.status !== 0) throw new Error('npm run build failed');
  }
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main?: string };
  if (!pkg.main || !existsSync(join(repoRoot, pkg.main))) {
    throw new Error(
      `package.json "main" (${pkg.main ?? 'unset'}) does not exist: build first (npm run build)`,
    );
  }
  const outRoot = join(repoRoot, '.build');
  const folder = join(outRoot, 'function');
  const zipPath = join(outRoot, 'function.zip');
  rmSync(folder, { recursive: true, force: true });
  rmSync(zipPath, { force: true });
  mkdirSync(folder, { recursive: true });

  for (const file of ROOT_FILES) cpSync(join(repoRoot, file), join(folder, file));
  for (const dir of DIST_FOLDERS) {
    if (!existsSync(join(repoRoot, dir))) throw new Error(`${dir} is missing: build first (npm run build)`);
    cpSync(join(repoRoot, dir), join(folder, dir), { recursive: true });
  }

  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as PackageLock;
  const packages: string[] = [];
  for (const path of productionPackages(lock)) {
    const source = join(repoRoot, path);
    if (!existsSync(source)) {
      if (lock.packages[path]?.optional) continue;
      throw new Error(`${path} is in package-lock.json but not installed: run npm ci`);
    }
    cpSync(source, join(folder, path), { recursive: true, dereference: true });
    packages.push(path.slice('node_modules/'.length));
  }
  // The lockfile travels along so `npm ls` on the package can explain what is in it.
  writeFileSync(join(folder, 'package-lock.json'), readFileSync(join(repoRoot, 'package-lock.json')));

  const zip = zipFolder(folder, zipPath);
  return { folder, zipPath, packages, zipEntries: zip.entries, zipBytes: zip.bytes };
}

if (require.main === module) {
  const repoRoot = resolve(__dirname, '..', '..');
  const result = packageFunction({ repoRoot, build: !process.argv.includes('--no-build') });
  const mb = (result.zipBytes / 1024 / 1024).toFixed(1);
  console.log(`staged ${result.folder} (${result.packages.length} production packages)`);
  console.log(`wrote ${result.zipPath} (${result.zipEntries} files, ${mb} MiB)`);
}

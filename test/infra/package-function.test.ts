import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../../scripts/bicep/paths';
import { packageFunction, productionPackages } from '../../scripts/deploy/package-function';
import { listFiles } from '../../scripts/deploy/zip-folder';
import { requireTool, toolPath } from '../helpers/tool-groups';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function write(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** A compiled project in miniature: production and dev dependencies, and code outside the function. */
function fixtureRepo(): string {
  const root = tempDir('package-function-');
  write(
    root,
    'package.json',
    JSON.stringify({
      name: 'fixture',
      main: 'dist/functions/index.js',
      dependencies: { prodpkg: '1.0.0', '@scope/scoped': '1.0.0' },
      devDependencies: { devpkg: '1.0.0' },
    }),
  );
  write(
    root,
    'package-lock.json',
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'fixture' },
        'node_modules/prodpkg': { version: '1.0.0' },
        'node_modules/prodpkg/node_modules/nested': { version: '2.0.0' },
        'node_modules/@scope/scoped': { version: '1.0.0' },
        'node_modules/devpkg': { version: '1.0.0', dev: true },
        'node_modules/other-platform-binary': { version: '1.0.0', optional: true },
      },
    }),
  );
  write(root, 'host.json', '{"version":"2.0"}');
  write(root, 'node_modules/prodpkg/index.js', "module.exports = 'prod+' + require('nested');");
  write(root, 'node_modules/prodpkg/node_modules/nested/index.js', "module.exports = 'nested';");
  write(root, 'node_modules/@scope/scoped/index.js', "module.exports = 'scoped';");
  write(root, 'node_modules/devpkg/index.js', "module.exports = 'dev';");
  write(root, 'dist/core/answer.js', 'module.exports = 42;');
  write(
    root,
    'dist/functions/index.js',
    "console.log([require('../core/answer'), require('prodpkg'), require('@scope/scoped')].join(' '));",
  );
  write(
    root,
    'dist/edge-listener/main.js',
    "throw new Error('the edge listener is not part of the function');",
  );
  return root;
}

describe('npm run package:function', () => {
  it('stages host.json, package.json, the function code and production dependencies only', () => {
    const root = fixtureRepo();
    const result = packageFunction({ repoRoot: root, build: false });
    expect(result.packages).toEqual(['@scope/scoped', 'prodpkg']);
    const files = listFiles(result.folder);
    expect(files).toContain('host.json');
    expect(files).toContain('package.json');
    expect(files).toContain('dist/functions/index.js');
    expect(files).toContain('dist/core/answer.js');
    expect(files).toContain('node_modules/prodpkg/node_modules/nested/index.js');
    expect(files.filter((f) => f.includes('devpkg') || f.includes('edge-listener'))).toEqual([]);
  });

  it('writes a zip that unzip accepts, holding exactly the staged files, which runs under node', (ctx) => {
    requireTool(ctx, 'unzip');
    const root = fixtureRepo();
    const result = packageFunction({ repoRoot: root, build: false });
    execFileSync(toolPath('unzip'), ['-tq', result.zipPath]);
    const listed = execFileSync(toolPath('unzip'), ['-Z1', result.zipPath], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listed).toEqual(listFiles(result.folder));
    const extracted = tempDir('package-function-unzipped-');
    execFileSync(toolPath('unzip'), ['-q', result.zipPath, '-d', extracted]);
    const output = execFileSync(process.execPath, ['-e', "require('./dist/functions/index.js')"], {
      cwd: extracted,
      encoding: 'utf8',
    });
    expect(output.trim()).toBe('42 prod+nested scoped');
  });

  it('gives byte-identical zips for identical input', () => {
    const root = fixtureRepo();
    const digest = () =>
      createHash('sha256')
        .update(readFileSync(packageFunction({ repoRoot: root, build: false }).zipPath))
        .digest('hex');
    expect(digest()).toBe(digest());
  });

  it('refuses to package an unbuilt project', () => {
    const root = fixtureRepo();
    rmSync(join(root, 'dist'), { recursive: true });
    expect(() => packageFunction({ repoRoot: root, build: false })).toThrow(/build first/);
  });

  it('refuses when a production dependency is in the lockfile but not installed', () => {
    const root = fixtureRepo();
    rmSync(join(root, 'node_modules', 'prodpkg'), { recursive: true });
    expect(() => packageFunction({ repoRoot: root, build: false })).toThrow(/node_modules\/prodpkg .*npm ci/);
    expect(existsSync(join(root, '.build', 'function.zip'))).toBe(false);
  });

  it('is what azd deploys: azure.yaml packages the staged folder with this script, without a remote build', () => {
    const azureYaml = readFileSync(join(REPO_ROOT, 'azure.yaml'), 'utf8');
    expect(azureYaml).toMatch(/^\s+host: function$/m);
    expect(azureYaml).toMatch(/^\s+language: ts$/m);
    expect(azureYaml).toMatch(/^\s+dist: \.build\/function$/m);
    expect(azureYaml).toMatch(/^\s+remoteBuild: false$/m);
    expect(azureYaml).toMatch(/^\s+run: npm run package:function$/m);
    const scripts = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts['package:function']).toBe('tsx scripts/deploy/package-function.ts');
    const root = fixtureRepo();
    expect(packageFunction({ repoRoot: root, build: false }).folder).toBe(join(root, '.build', 'function'));
  });

  it('takes the runtime dependencies of this repository and none of its tooling', () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Parameters<
      typeof productionPackages
    >[0];
    const packages = productionPackages(lock);
    for (const name of ['@azure/functions', '@azure/identity', '@azure/data-tables', 'mailparser', 'zod']) {
      expect(packages).toContain(`node_modules/${name}`);
    }
    for (const name of ['vitest', 'azurite', 'typescript', 'eslint', 'playwright-core', 'tsx']) {
      expect(packages).not.toContain(`node_modules/${name}`);
    }
  });

  it('ships none of the dev-only code of this repository (local host, Graph sandbox) in the real zip', (ctx) => {
    requireTool(ctx, 'unzip');
    // A throwaway root that shares this checkout's manifests and node_modules and holds a fresh compile.
    const root = tempDir('package-function-real-');
    for (const name of ['host.json', 'package.json', 'package-lock.json', 'node_modules']) {
      symlinkSync(join(REPO_ROOT, name), join(root, name));
    }
    execFileSync(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(REPO_ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(root, 'dist'),
      ],
      { stdio: 'pipe' },
    );
    expect(existsSync(join(root, 'dist', 'dev', 'graph-sandbox', 'sandbox.js'))).toBe(true);
    const result = packageFunction({ repoRoot: root, build: false });
    const listed = execFileSync(toolPath('unzip'), ['-Z1', result.zipPath], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
      .trim()
      .split('\n');
    expect(listed).toContain('dist/functions/index.js');
    const ownCode = listed.filter((entry) => entry.startsWith('dist/'));
    expect(ownCode.filter((entry) => !/^dist\/(functions|core)\//.test(entry))).toEqual([]);
    expect(ownCode.filter((entry) => /graph-sandbox|function-host|\/local\//.test(entry))).toEqual([]);
  }, 180_000);
});

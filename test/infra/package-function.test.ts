import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SEND_QUEUED_FUNCTION } from '../../functions/delivery/send-queued-name';
import { HTTP_FUNCTIONS } from '../../functions/http/http-functions';
import { REPO_ROOT } from '../../scripts/bicep/paths';
import { FUNCTION_ENTRY } from '../../scripts/deploy/build-function-bundle';
import { packageFunction, type PackageFunctionResult } from '../../scripts/deploy/package-function';
import { listFiles } from '../../scripts/deploy/zip-folder';
import { requireTool, toolPath } from '../helpers/tool-groups';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Every function the app registers: the HTTP table and the queue trigger. */
const EXPECTED_FUNCTIONS = [...HTTP_FUNCTIONS.map((def) => def.name), SEND_QUEUED_FUNCTION].sort();

/**
 * What the Functions Node.js worker hands the app as `@azure/functions-core` (the module is not on npm; the
 * worker answers `require('@azure/functions-core')` itself): here it records what the app registers.
 */
const HOST_CORE_PRELOAD = `
const Module = require('node:module');
const registered = [];
let model;
const core = {
  setProgrammingModel(m) { model = m.name; },
  registerFunction(metadata) {
    registered.push({ name: metadata.name, bindings: Object.values(metadata.bindings).map((b) => b.type + ':' + b.direction) });
    return { dispose() {} };
  },
  registerHook() { return { dispose() {} }; },
  log() {},
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === '@azure/functions-core' ? core : load.call(this, request, ...rest);
};
process.on('exit', () => process.stdout.write('@@host ' + JSON.stringify({ model, registered }) + '\\n'));
`;

let packaged: PackageFunctionResult;
let extracted: string;

beforeAll(() => {
  packaged = packageFunction({ repoRoot: REPO_ROOT, outRoot: tempDir('package-function-') });
}, 180_000);

describe('npm run package:function', () => {
  it('stages host.json, a package.json whose main is the bundle entry, and the bundle: no node_modules', () => {
    const files = listFiles(packaged.folder);
    expect(files).toContain('host.json');
    expect(files).toContain('package.json');
    expect(files).toContain(FUNCTION_ENTRY);
    expect(
      files.filter(
        (f) => !['host.json', 'package.json'].includes(f) && !/^dist\/functions\/.+\.mjs$/.test(f),
      ),
    ).toEqual([]);
    expect(readFileSync(join(packaged.folder, 'host.json'), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, 'host.json'), 'utf8'),
    );
    const pkg = JSON.parse(readFileSync(join(packaged.folder, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(pkg.main).toBe(FUNCTION_ENTRY);
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.scripts).toBeUndefined();
  });

  it('bundles the function code and its dependencies, and none of dev/, the edge, tests, benches or scripts', () => {
    const own = packaged.inputs.filter((input) => !input.includes('node_modules/'));
    expect(own).toContain('functions/index.ts');
    expect(own.some((input) => input.startsWith('core/'))).toBe(true);
    expect(own.filter((input) => !/^(functions|core)\//.test(input))).toEqual([]);
    for (const name of ['@azure/functions', '@azure/identity', '@azure/data-tables', 'mailparser', 'zod']) {
      expect(packaged.inputs.some((input) => input.includes(`node_modules/${name}/`))).toBe(true);
    }
    for (const name of ['vitest', 'azurite', 'typescript', 'tsx', 'smtp-server', 'playwright-core']) {
      expect(packaged.inputs.filter((input) => input.includes(`node_modules/${name}/`))).toEqual([]);
    }
  });

  it('writes a zip that unzip accepts, holding exactly the staged files', (ctx) => {
    requireTool(ctx, 'unzip');
    execFileSync(toolPath('unzip'), ['-tq', packaged.zipPath]);
    const listed = execFileSync(toolPath('unzip'), ['-Z1', packaged.zipPath], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listed).toEqual(listFiles(packaged.folder));
    extracted = tempDir('package-function-unzipped-');
    execFileSync(toolPath('unzip'), ['-q', packaged.zipPath, '-d', extracted]);
  });

  it('loads from the extracted zip under plain Node and registers every function with the host', (ctx) => {
    requireTool(ctx, 'unzip');
    expect(extracted).toBeDefined();
    const preload = join(tempDir('package-function-host-'), 'host-core.cjs');
    writeFileSync(preload, HOST_CORE_PRELOAD);
    const output = execFileSync(
      process.execPath,
      ['-r', preload, '-e', "require('./' + require('./package.json').main)"],
      { cwd: extracted, encoding: 'utf8' },
    );
    const line = output.split('\n').find((l) => l.startsWith('@@host '));
    const host = JSON.parse(line!.slice('@@host '.length)) as {
      model: string;
      registered: { name: string; bindings: string[] }[];
    };
    expect(host.model).toBe('@azure/functions');
    expect(host.registered.map((r) => r.name).sort()).toEqual(EXPECTED_FUNCTIONS);
    for (const r of host.registered) {
      expect(r.bindings).toContain(r.name === SEND_QUEUED_FUNCTION ? 'queueTrigger:in' : 'httpTrigger:in');
    }
    // Without a host (the brief's `node -e "require(main)"`): @azure/functions' test mode names each function.
    const testMode = execFileSync(
      process.execPath,
      ['-e', "require('./' + require('./package.json').main)"],
      {
        cwd: extracted,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(testMode).toContain('HTTP streaming enabled.');
  });

  it('every lazily loaded chunk of the extracted zip imports under plain Node (no node_modules needed)', (ctx) => {
    requireTool(ctx, 'unzip');
    expect(extracted).toBeDefined();
    const chunks = readdirSync(join(extracted, 'dist', 'functions', 'chunks'));
    expect(chunks.some((c) => c.startsWith('post-message-handler-'))).toBe(true);
    expect(chunks.some((c) => c.startsWith('queued-delivery-'))).toBe(true);
    const output = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { readdirSync } from 'node:fs'; let n = 0; for (const f of readdirSync('dist/functions/chunks')) { await import('./dist/functions/chunks/' + f); n++; } console.log('imported ' + n);",
      ],
      { cwd: extracted, encoding: 'utf8' },
    );
    expect(output.trim()).toBe(`imported ${chunks.length}`);
  });

  it('gives byte-identical zips for identical input', () => {
    const digest = (zipPath: string) => createHash('sha256').update(readFileSync(zipPath)).digest('hex');
    const again = packageFunction({ repoRoot: REPO_ROOT, outRoot: tempDir('package-function-again-') });
    expect(digest(again.zipPath)).toBe(digest(packaged.zipPath));
  }, 180_000);

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
  });
});

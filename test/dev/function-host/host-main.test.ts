import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, inject, it } from 'vitest';

import { uniqueStorageNames } from '../../functions/storage-names';

const root = join(__dirname, '..', '..', '..');
const cli = ['--import', 'tsx', join(root, 'dev', 'function-host', 'host-main.ts')];

describe('local function host command', () => {
  it('prints its usage with --help', () => {
    const run = spawnSync(process.execPath, [...cli, '--help'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('BRIDGE_LOCAL_FUNCTION_KEY');
    expect(run.stdout).toContain('POST /api/v1/messages');
  });

  it('refuses an invalid configuration with exit code 2 and lists the problems', () => {
    const run = spawnSync(process.execPath, cli, {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH ?? '', BRIDGE_SITES: 'not json' },
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('CONFIG_INVALID');
    expect(run.stdout).toContain('BRIDGE_SITES');
  });

  it('serves the routes until SIGTERM, then stops cleanly', async () => {
    const names = uniqueStorageNames('hostmain');
    const child = spawn(process.execPath, cli, {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        AzureWebJobsStorage: inject('azuriteConnectionString'),
        BRIDGE_STATE_TABLE: names.table,
        BRIDGE_BLOB_CONTAINER: names.container,
        BRIDGE_QUEUE_NAME: names.queue,
        BRIDGE_LOCAL_FUNCTION_PORT: '0',
        BRIDGE_LOCAL_FUNCTION_KEY: 'a-local-key-0123456789',
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/\S+)\/api/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    expect((await fetch(`${url}/api/health/deep`)).status).toBe(401);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});

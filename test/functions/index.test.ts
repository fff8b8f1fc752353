import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
/** Every function the app deploys: the HTTP routes and the queue trigger. */
const FUNCTION_NAMES = [
  'sendMessage',
  'messageStatus',
  'health',
  'healthDeep',
  'diagnostics',
  'sendQueued',
  'adminCollection',
  'adminItem',
  'adminAction',
  'consentCallback',
];

describe('function app entry', () => {
  it('is what package.json "main" points the Functions host at', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/functions/index.js');
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    expect(build.include).toContain('functions');
  });

  it('registers every function when loaded (outside the host the library reports each registration it skips)', () => {
    // A child process: registration is a module side effect, and the test must see it happen from the entry.
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./functions/index.ts')"], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        BRIDGE_QUEUE_NAME: 'custom-queue',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(0);
    for (const name of FUNCTION_NAMES) {
      expect(run.stderr).toContain(`register function "${name}"`);
    }
  });
});

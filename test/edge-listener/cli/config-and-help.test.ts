import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { FunctionTarget } from '../../helpers/edge-env';
import { opsEdgeEnv, runCli, tempDataDir } from './edge-process';

/** `config check` only reads the settings: no function has to answer at this address. */
const NO_FUNCTION: FunctionTarget = {
  url: 'https://bridge.example',
  siteId: 'test-site',
  siteSecret: 'test-site-secret-0123456789',
  functionKey: 'test-function-key',
};

const COMMANDS = ['start', 'queue', 'send-test', 'config', 'health', 'hash-password'];

describe('CLI help and usage', () => {
  it('prints help for every command with exit code 0, and the command list on --help', async () => {
    const env = { PATH: process.env.PATH ?? '' };
    const [top, ...each] = await Promise.all([
      runCli(['--help'], env),
      ...COMMANDS.map((c) => runCli([c, '--help'], env)),
    ]);
    expect(top!.code).toBe(0);
    for (const c of COMMANDS) expect(top!.stdout).toContain(`  ${c} `);
    each.forEach((r, i) => {
      expect(r.code, COMMANDS[i]).toBe(0);
      expect(r.stdout, COMMANDS[i]).toMatch(/^Usage: /);
    });
  });

  it('answers wrong usage with exit code 2 and a pointer to the help', async () => {
    const env = { PATH: process.env.PATH ?? '', BRIDGE_DATA_DIR: tempDataDir() };
    const [unknownCommand, unknownOption, missingId] = await Promise.all([
      runCli(['frobnicate'], env),
      runCli(['queue', 'list', '--colour'], env),
      runCli(['queue', 'retry'], env),
    ]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command frobnicate');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain('unknown option --colour');
    expect(missingId.code).toBe(2);
    expect(missingId.stderr).toContain('queue --help');
  });
});

describe('config check', () => {
  it('lists every problem at once with exit code 1 and never prints a secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-config-'));
    const file = join(dir, 'edge.json');
    writeFileSync(
      file,
      JSON.stringify({
        BRIDGE_FUNCTION_KEY: 'key-from-file-must-not-show',
        BRIDGE_SMTP_MAX_RECIPIENTS: 9000,
      }),
    );
    const env = {
      PATH: process.env.PATH ?? '',
      BRIDGE_SITE_ID: 'Bad Site',
      BRIDGE_FUNCTION_URL: 'ftp://bridge.example',
      BRIDGE_SITE_SECRET: 'short-secret!',
      BRIDGE_SMTP_PORT: '70000',
      BRIDGE_MAX_MESSAGE_BYTES: '500MiB',
      BRIDGE_ALLOWED_CLIENTS: '10.0.0.0/33',
    };
    const r = await runCli(['config', 'check', '--config', file], env);
    expect(r.code).toBe(1);
    for (const name of [
      'BRIDGE_SITE_ID',
      'BRIDGE_FUNCTION_URL',
      'BRIDGE_SITE_SECRET',
      'BRIDGE_SMTP_PORT',
      'BRIDGE_MAX_MESSAGE_BYTES',
      'BRIDGE_ALLOWED_CLIENTS',
      'BRIDGE_FUNCTION_KEY',
      'BRIDGE_SMTP_MAX_RECIPIENTS',
    ]) {
      expect(r.stderr, name).toContain(`- ${name}`);
    }
    expect(r.stderr).toMatch(/Configuration has (\d+) problems/);
    const all = r.stdout + r.stderr;
    expect(all).not.toContain('short-secret!');
    expect(all).not.toContain('key-from-file-must-not-show');

    const json = await runCli(['config', 'check', '--json', '--config', file], env);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; problems: string[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.problems.length).toBeGreaterThanOrEqual(8);
  });

  it('accepts a valid configuration with exit code 0 and shows secrets only as "set"', async () => {
    const env = opsEdgeEnv(NO_FUNCTION, tempDataDir(), {
      BRIDGE_FUNCTION_KEY: 'function-key-value-1234',
    });
    const r = await runCli(['config', 'check'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Configuration OK.');
    expect(r.stdout).toContain('site secret: set, function key: set');
    expect(r.stdout).not.toContain(env.BRIDGE_SITE_SECRET);
    expect(r.stdout).not.toContain('function-key-value-1234');
  });

  it('reports a data directory the service could not write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-config-'));
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const env = opsEdgeEnv(NO_FUNCTION, join(blocker, 'spool-under-a-file'), {
      BRIDGE_SMTP_PORT: '2525',
      BRIDGE_HTTP_PORT: '2525',
    });
    const r = await runCli(['config', 'check'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('- BRIDGE_DATA_DIR');
    expect(r.stderr).toContain('- BRIDGE_SMTP_PORT: 2525 is also BRIDGE_HTTP_PORT');
  });
});

import { describe, expect, it } from 'vitest';

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { UsageError } from '../../../edge-listener/cli/args';
import { hashPassword } from '../../../edge-listener/smtp/password-hash';
import { check, doctor, type DoctorStack, SENDER, useDoctorStack } from './doctor-stack';

let stack: DoctorStack;
useDoctorStack((s) => (stack = s));

describe('doctor on a healthy bridge', () => {
  it('prints ✓ for every hop, sends nothing, and exits 0', async () => {
    const run = await doctor(stack.env);
    expect(run.code).toBe(0);
    for (const title of [
      'Configuration is valid',
      `SMTP port ${stack.env.BRIDGE_SMTP_PORT} is listening`,
      'TLS certificate of the SMTP listener is valid',
      'The function app answers',
      "The function accepts this site's key and signature",
      'The function gets a Microsoft Graph token for tenant tenant-home',
      'The app holds Mail.Send',
      'The app holds Mail.ReadWrite for large messages',
      `The app may send as ${SENDER} (the default sender)`,
    ]) {
      expect(run.output).toContain(`✓ ${title}`);
    }
    expect(run.output).not.toContain('✗');
    expect(run.output).toMatch(/All \d+ checks passed/);
    // The permission probe reached Graph but nothing was kept (no recipients).
    expect(stack.graph.requests().some((r) => r.route === 'sendMail' && r.status === 400)).toBe(true);
    expect(stack.graph.messages()).toHaveLength(0);
  });

  it('answers --json with one entry per check and no secrets', async () => {
    const run = await doctor(stack.env, ['--json']);
    expect(run.code).toBe(0);
    const report = run.report!;
    expect(report).toMatchObject({ healthy: true, site: 'hq', functionUrl: stack.host.url });
    expect(report.counts.fail).toBe(0);
    expect(report.counts.pass).toBe(report.checks.length - report.counts.skip);
    for (const c of report.checks) {
      expect(Object.keys(c).sort()).toEqual(expect.arrayContaining(['id', 'status', 'summary', 'title']));
      expect(['pass', 'skip']).toContain(c.status);
    }
    expect(check(run, 'graph-token').details).toMatchObject({
      roles: ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'],
      credential: 'client-secret',
    });
    expect(check(run, 'sender-mailbox').details).toMatchObject({ address: SENDER, role: 'default-sender' });
    expect(check(run, 'smtp-tls-certificate').details).toMatchObject({
      source: 'listener',
      selfSigned: true,
    });
    // Every check a run reports is explained in the troubleshooting guide.
    const guide = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'troubleshooting.md'), 'utf8');
    expect(report.checks.map((c) => c.id).filter((id) => !guide.includes(`\`${id}\``))).toEqual([]);
    expect(run.output).not.toContain(stack.env.BRIDGE_SITE_SECRET);
    expect(run.output).not.toContain(stack.env.BRIDGE_FUNCTION_KEY);
  });

  it('with --send-to, sends one real message through SMTP, the function and Graph', async () => {
    const run = await doctor(stack.env, ['--send-to', 'alice@fabrikam.com', '--json']);
    expect(run.code).toBe(0);
    const test = check(run, 'test-message');
    expect(test.status).toBe('pass');
    expect(test.summary).toMatch(
      /Microsoft Graph accepted message \S+ from scanner@contoso\.com to alice@fabrikam\.com/,
    );
    const kept = stack.graph.messages();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ mailbox: SENDER, subject: 'smtp-graph-bridge doctor test from site hq' });
    expect(kept[0]?.to).toEqual(['alice@fabrikam.com']);
  });

  it('checks an extra mailbox given with --from and says when policy would not let devices use it', async () => {
    const run = await doctor({ ...stack.env }, ['--from', 'sendas@contoso.com', '--json']);
    const extra = run.report!.checks.find(
      (c) => c.id === 'sender-mailbox' && c.title.includes('sendas@contoso.com'),
    );
    expect(extra).toMatchObject({ status: 'pass', details: { role: 'requested', allowedByPolicy: true } });
  });

  it('authenticates the test message with --user and a password from the environment', async () => {
    const users = `copier:${await hashPassword('copier-password-1', 10)}`;
    const env = await stack.startEdge({ BRIDGE_SMTP_USERS: users, BRIDGE_SMTP_AUTH_REQUIRED: 'true' });
    const without = await doctor(env, ['--json', '--send-to', 'alice@fabrikam.com']);
    const refused = check(without, 'test-message');
    expect(refused).toMatchObject({ status: 'fail', details: { code: 'SMTP_AUTH_REQUIRED' } });
    expect(refused.fix).toMatch(/SMTP AUTH/);
    const withAuth = await doctor({ ...env, DOCTOR_PW: 'copier-password-1' }, [
      '--json',
      '--send-to',
      'alice@fabrikam.com',
      '--user',
      'copier',
      '--password-env',
      'DOCTOR_PW',
    ]);
    expect(check(withAuth, 'test-message').status).toBe('pass');
    expect(withAuth.output).not.toContain('copier-password-1');
  });

  it('runs as `doctor` of the edge CLI: exit code 0 and the JSON report on stdout', async () => {
    const root = join(__dirname, '..', '..', '..');
    // Asynchronously: the listener and the function host of this test run in this process.
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          join(root, 'edge-listener', 'cli', 'main.ts'),
          'doctor',
          '--json',
          '--timeout',
          '5',
        ],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH ?? '',
            NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '',
            ...stack.env,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ healthy: true, site: 'hq' });
  });

  it('without settings of its own, checks the `npm start` stack described by BRIDGE_DATA_DIR/stack.json', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'doctor-stack-'));
    try {
      // What `npm start` leaves for tools: where things listen (no secrets), and the secrets as files.
      const state = {
        pid: process.pid,
        mode: 'sandbox',
        smtp: { host: '127.0.0.1', port: Number(stack.env.BRIDGE_SMTP_PORT) },
        functionUrl: stack.host.url,
        statusUrl: 'http://127.0.0.1:8025/',
        adminTokenFile: join(dataDir, 'secrets', 'admin-token'),
        children: [],
        startedAt: new Date().toISOString(),
      };
      writeFileSync(join(dataDir, 'stack.json'), JSON.stringify(state));
      mkdirSync(join(dataDir, 'secrets'));
      writeFileSync(join(dataDir, 'secrets', 'site-secret'), `${stack.env.BRIDGE_SITE_SECRET}\n`);
      writeFileSync(join(dataDir, 'secrets', 'function-key'), `${stack.env.BRIDGE_FUNCTION_KEY}\n`);
      const run = await doctor({ BRIDGE_DATA_DIR: dataDir, BRIDGE_SITE_ID: 'hq' });
      expect(run.output).toContain(
        `Settings from the running \`npm start\` stack (sandbox mode, ${join(dataDir, 'stack.json')})`,
      );
      expect(run.code).toBe(0);
      // An explicit function URL means "my own settings": the stack file is not used then.
      const own = await doctor({ BRIDGE_DATA_DIR: dataDir, BRIDGE_FUNCTION_URL: stack.host.url }, ['--json']);
      expect(own.report!.configSource).toBeUndefined();
      expect(check(own, 'config').status).toBe('fail');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('prints its help and refuses unknown options or malformed addresses', async () => {
    const help = await doctor(stack.env, ['--help']);
    expect(help.code).toBe(0);
    expect(help.output).toMatch(/--send-to ADDRESS/);
    expect(help.output).toMatch(/Exit code: 0 healthy, 1 a check failed/);
    await expect(doctor(stack.env, ['--bogus'])).rejects.toThrow(UsageError);
    await expect(doctor(stack.env, ['--send-to', 'not-an-address'])).rejects.toThrow(/e-mail address/);
    await expect(doctor(stack.env, ['--user', 'copier'])).rejects.toThrow(/BRIDGE_TEST_SMTP_PASSWORD/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';

import { describe, expect, it } from 'vitest';

import { edgeSettingsSchema, instanceIdFromHostname, loadEdgeConfig } from '../../edge-listener/config';
import { hashPassword } from '../../edge-listener/smtp/password-hash';

const base = {
  BRIDGE_SITE_ID: 'hq',
  BRIDGE_FUNCTION_URL: 'https://bridge.example.net',
  BRIDGE_SITE_SECRET: 'a-very-long-site-secret',
  // On this machine only: the default client list (loopback) then needs no decision (see the refusal test).
  BRIDGE_SMTP_HOST: '127.0.0.1',
};
/** The same, bound the default way (all interfaces). */
const { BRIDGE_SMTP_HOST: _loopback, ...network } = base;

function dir() {
  return mkdtempSync(join(tmpdir(), 'edge-config-'));
}

function ok(result: ReturnType<typeof loadEdgeConfig>) {
  if ('issues' in result) throw new Error(result.issues.join('\n'));
  return result.config;
}

describe('edge configuration', () => {
  it('applies the documented defaults', () => {
    const c = ok(loadEdgeConfig({ env: base }));
    expect(c.smtp).toMatchObject({
      port: 2525,
      maxMessageBytes: 35 * 1024 * 1024,
      maxRecipients: 500,
      starttls: true,
    });
    expect(c.smtp.allowedClients).toEqual(['127.0.0.0/8', '::1/128']);
    expect(c.statusPage.loopbackTrust).toBe(true);
    expect(c.http.port).toBe(8025);
    expect(c.dataDir).toBe(join(process.cwd(), '.data'));
    expect(c.forward).toMatchObject({
      url: 'https://bridge.example.net',
      budgetMs: 5000,
      maxQueueAgeMs: 5 * 86_400_000,
    });
    expect(c.tls.legacy).toBe(false);
    expect(c.auth).toMatchObject({ users: [], required: false });
  });

  it('refuses to start reachable from the network without a client list or required AUTH, naming the setting', async () => {
    for (const host of [undefined, '0.0.0.0', '::', '192.168.10.5']) {
      const env = host === undefined ? network : { ...network, BRIDGE_SMTP_HOST: host };
      const r = loadEdgeConfig({ env });
      expect('issues' in r && r.issues.join('\n'), String(host)).toMatch(
        /^BRIDGE_ALLOWED_CLIENTS: required because BRIDGE_SMTP_HOST=\S+ is reachable from the network/m,
      );
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost'])
      expect(ok(loadEdgeConfig({ env: { ...network, BRIDGE_SMTP_HOST: host } })).smtp.host).toBe(host);
    expect(
      ok(loadEdgeConfig({ env: { ...network, BRIDGE_ALLOWED_CLIENTS: '192.168.10.0/24' } })).smtp
        .allowedClients,
    ).toEqual(['192.168.10.0/24']);
    const users = `mfp:${await hashPassword('a-long-password', 10)}`;
    const withAuth = ok(
      loadEdgeConfig({ env: { ...network, BRIDGE_SMTP_USERS: users, BRIDGE_SMTP_AUTH_REQUIRED: 'true' } }),
    );
    expect(withAuth.auth.required).toBe(true);
    // Optional AUTH is no decision about who may connect.
    expect('issues' in loadEdgeConfig({ env: { ...network, BRIDGE_SMTP_USERS: users } })).toBe(true);
    // BRIDGE_REQUIRE_ALLOWED_CLIENTS (the container image): an explicit list even with AUTH required.
    const strict = loadEdgeConfig({
      env: {
        ...network,
        BRIDGE_SMTP_USERS: users,
        BRIDGE_SMTP_AUTH_REQUIRED: 'true',
        BRIDGE_REQUIRE_ALLOWED_CLIENTS: 'true',
      },
    });
    expect('issues' in strict && strict.issues.join('\n')).toMatch(/BRIDGE_ALLOWED_CLIENTS: required here/);
  });

  it('documents every setting (.describe) so the reference can be generated', () => {
    for (const [name, field] of Object.entries(edgeSettingsSchema.shape))
      expect(field.description, name).toBeTruthy();
  });

  it('reads a JSON file and lets the environment win', () => {
    const d = dir();
    const file = join(d, 'edge.json');
    writeFileSync(
      file,
      JSON.stringify({
        BRIDGE_SMTP_PORT: 2600,
        BRIDGE_MAX_MESSAGE_BYTES: '10MB',
        BRIDGE_ALLOWED_CLIENTS: ['10.1.0.0/16'],
        BRIDGE_TLS_LEGACY: true,
      }),
    );
    const c = ok(loadEdgeConfig({ env: { ...base, BRIDGE_SMTP_PORT: '2700' }, file }));
    expect(c.smtp.port).toBe(2700);
    expect(c.smtp.maxMessageBytes).toBe(10_000_000);
    expect(c.smtp.allowedClients).toEqual(['10.1.0.0/16']);
    expect(c.tls.legacy).toBe(true);
  });

  it('lists every problem at once, naming where each value came from', () => {
    const d = dir();
    const file = join(d, 'edge.json');
    writeFileSync(file, JSON.stringify({ BRIDGE_SMTP_PORT: 99999, BRIDGE_SMPT_TYPO: 1 }));
    const r = loadEdgeConfig({
      env: {
        BRIDGE_SITE_ID: 'Bad Site',
        BRIDGE_FUNCTION_URL: 'http://bridge.example.net/api',
        BRIDGE_ALLOWED_CLIENTS: '10.0.0.0/33,not-an-ip',
        BRIDGE_MAX_MESSAGE_BYTES: '200MiB',
        BRIDGE_RETRY_SCHEDULE: '30s,soon',
      },
      file,
    });
    expect('issues' in r).toBe(true);
    const issues = 'issues' in r ? r.issues.join('\n') : '';
    for (const expected of [
      'BRIDGE_SITE_ID (from environment)',
      'BRIDGE_FUNCTION_URL',
      'https://',
      'without a path',
      'prefix must be 0–32',
      '"not-an-ip"',
      'BRIDGE_SMTP_PORT (from config file)',
      'BRIDGE_SMPT_TYPO',
      'at most 150MiB',
      'not a duration',
      'BRIDGE_SITE_SECRET: required',
    ]) {
      expect(issues).toContain(expected);
    }
  });

  it('never takes secrets from the config file, reads them from *_FILE, and never prints them', async () => {
    const d = dir();
    const file = join(d, 'edge.json');
    writeFileSync(file, JSON.stringify({ BRIDGE_SITE_SECRET: 'in-the-file-secret-123' }));
    const refused = loadEdgeConfig({ env: { ...base }, file });
    expect('issues' in refused && refused.issues.join()).toContain(
      'secrets are not read from the config file',
    );

    writeFileSync(join(d, 'secret'), 'file-held-site-secret-xyz\n');
    writeFileSync(join(d, 'key'), 'function-key-abc');
    writeFileSync(join(d, 'users'), `# AUTH users\nscanner:${await hashPassword('pw-one', 10)}\n`);
    const c = ok(
      loadEdgeConfig({
        env: {
          BRIDGE_SITE_ID: 'hq',
          BRIDGE_FUNCTION_URL: 'https://b.example.net',
          BRIDGE_SITE_SECRET_FILE: join(d, 'secret'),
          BRIDGE_FUNCTION_KEY_FILE: join(d, 'key'),
          BRIDGE_SMTP_USERS_FILE: join(d, 'users'),
          BRIDGE_SMTP_HOST: '127.0.0.1',
        },
      }),
    );
    expect(c.forward.siteSecret.reveal()).toBe('file-held-site-secret-xyz');
    expect(c.forward.functionKey?.reveal()).toBe('function-key-abc');
    expect(c.auth.users.map((u) => u.name)).toEqual(['scanner']);
    const printed = `${JSON.stringify(c)} ${inspect(c, { depth: 10 })} ${String(c.forward.siteSecret)}`;
    for (const secret of ['file-held-site-secret-xyz', 'function-key-abc', 'scrypt$'])
      expect(printed).not.toContain(secret);

    const both = loadEdgeConfig({ env: { ...base, BRIDGE_SITE_SECRET_FILE: join(d, 'secret') } });
    expect('issues' in both && both.issues.join()).toContain(
      'set either BRIDGE_SITE_SECRET or BRIDGE_SITE_SECRET_FILE',
    );
    const missing = loadEdgeConfig({ env: { ...base, BRIDGE_FUNCTION_KEY_FILE: join(d, 'nope') } });
    expect('issues' in missing && missing.issues.join()).toContain('cannot read');
  });

  it('accepts only hashed AUTH passwords and requires users when AUTH is required', () => {
    const r = loadEdgeConfig({
      env: { ...base, BRIDGE_SMTP_USERS: 'copier:plaintext-password', BRIDGE_SMTP_AUTH_REQUIRED: 'true' },
    });
    const issues = 'issues' in r ? r.issues.join('\n') : '';
    expect(issues).toContain('user "copier" must have a scrypt password hash');
    expect(issues).toContain('BRIDGE_SMTP_AUTH_REQUIRED: needs at least one user');
    expect(issues).not.toContain('plaintext-password');
  });

  it('allows http:// only for a function host on this machine', () => {
    expect(
      'config' in loadEdgeConfig({ env: { ...base, BRIDGE_FUNCTION_URL: 'http://127.0.0.1:7071' } }),
    ).toBe(true);
    expect(
      'issues' in loadEdgeConfig({ env: { ...base, BRIDGE_FUNCTION_URL: 'http://bridge.example.net' } }),
    ).toBe(true);
  });

  it('derives a spool-safe instance id from the host name', () => {
    expect(instanceIdFromHostname('PRINT-SRV01.corp.local')).toBe('print-srv01-corp-local');
    expect(instanceIdFromHostname('___')).toBe('edge');
    expect(instanceIdFromHostname('a'.repeat(40))).toHaveLength(24);
  });
});

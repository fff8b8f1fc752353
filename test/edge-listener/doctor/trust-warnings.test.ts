import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { DiagnosticsReport } from '../../../core/diagnostics';
import { type EdgeConfig, loadEdgeConfig } from '../../../edge-listener/config';
import { trustChecks } from '../../../edge-listener/doctor/checks/trust-settings';
import { recordProxySeen } from '../../../edge-listener/status-page/proxy-seen';

/**
 * doctor's warnings about configurations that trust too much (issue 10): a network bind that lets in whole
 * private ranges, a site policy of `*` (or wildcards with no device bound), and status-page address trust
 * while a proxy has been seen in front of it. The configuration is the real loader's; the function's answer is
 * the DiagnosticsReport shape it sends (only `policy` matters here).
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function config(env: Record<string, string>): EdgeConfig {
  const dataDir = mkdtempSync(join(tmpdir(), 'doctor-trust-'));
  dirs.push(dataDir);
  const r = loadEdgeConfig({
    env: {
      BRIDGE_SITE_ID: 'hq',
      BRIDGE_FUNCTION_URL: 'https://f.example.net',
      BRIDGE_SITE_SECRET: 'a-very-long-site-secret',
      BRIDGE_DATA_DIR: dataDir,
      ...env,
    },
  });
  if ('issues' in r) throw new Error(r.issues.join('\n'));
  return r.config;
}

const policy = (allowedSenders: string[]) => ({ policy: { allowedSenders } }) as unknown as DiagnosticsReport;
const byId = (checks: ReturnType<typeof trustChecks>, id: string) => checks.find((c) => c.id === id)!;

describe('doctor: risky trust settings', () => {
  it('warns about a network bind that lets in a whole private range, not about a device subnet', () => {
    const wide = trustChecks(config({ BRIDGE_ALLOWED_CLIENTS: '192.168.0.0/16,10.0.0.5' }));
    expect(byId(wide, 'smtp-client-trust')).toMatchObject({
      status: 'warn',
      details: { wideRanges: ['192.168.0.0/16'] },
    });
    expect(
      byId(trustChecks(config({ BRIDGE_ALLOWED_CLIENTS: '0.0.0.0/0' })), 'smtp-client-trust').status,
    ).toBe('warn');
    expect(
      byId(trustChecks(config({ BRIDGE_ALLOWED_CLIENTS: 'fc00::/7' })), 'smtp-client-trust').status,
    ).toBe('warn');
    expect(
      byId(trustChecks(config({ BRIDGE_ALLOWED_CLIENTS: '192.168.10.0/24' })), 'smtp-client-trust').status,
    ).toBe('pass');
    // On this machine only, a wide list reaches nobody else.
    expect(
      byId(
        trustChecks(config({ BRIDGE_SMTP_HOST: '127.0.0.1', BRIDGE_ALLOWED_CLIENTS: '10.0.0.0/8' })),
        'smtp-client-trust',
      ).status,
    ).toBe('pass');
  });

  it('warns about a site policy of *, and about wildcards while no device is bound', () => {
    const c = config({ BRIDGE_ALLOWED_CLIENTS: '192.168.10.0/24' });
    expect(byId(trustChecks(c, policy(['*'])), 'site-sender-policy')).toMatchObject({
      status: 'warn',
      summary: expect.stringMatching(/any sender/),
    });
    expect(byId(trustChecks(c, policy(['*@contoso.com'])), 'site-sender-policy').status).toBe('warn');
    const bound = config({
      BRIDGE_ALLOWED_CLIENTS: '192.168.10.0/24',
      BRIDGE_SENDER_BINDINGS: 'client:192.168.10.0/24=scanner@contoso.com',
    });
    expect(byId(trustChecks(bound, policy(['*@contoso.com'])), 'site-sender-policy').status).toBe('pass');
    expect(byId(trustChecks(c, policy(['scanner@contoso.com'])), 'site-sender-policy').status).toBe('pass');
    expect(trustChecks(c).some((x) => x.id === 'site-sender-policy')).toBe(false);
  });

  it('warns when the listener saw a proxy header while address trust is on, and not once trust is off', () => {
    const c = config({ BRIDGE_ALLOWED_CLIENTS: '192.168.10.0/24' });
    expect(byId(trustChecks(c), 'admin-address-trust').status).toBe('pass');
    recordProxySeen(c.dataDir, 'x-forwarded-for');
    expect(byId(trustChecks(c), 'admin-address-trust')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/BRIDGE_ADMIN_LOOPBACK_TRUST=false/),
    });
    const off = config({
      BRIDGE_ALLOWED_CLIENTS: '192.168.10.0/24',
      BRIDGE_ADMIN_LOOPBACK_TRUST: 'false',
      BRIDGE_DATA_DIR: c.dataDir,
    });
    expect(byId(trustChecks(off), 'admin-address-trust').status).toBe('pass');
  });
});

import { describe, expect, it } from 'vitest';

import { loadStackSettings } from '../../../scripts/stack/stack-config';

describe('npm start settings', () => {
  it('runs the sandbox when no Microsoft 365 credentials are set, with the documented defaults', () => {
    const r = loadStackSettings({}, '/work');
    expect(r).toMatchObject({
      settings: {
        mode: 'sandbox',
        dataDir: '/work/.data',
        siteId: 'local',
        smtp: { host: '127.0.0.1', port: 2525 },
        http: { host: '127.0.0.1', port: 8025 },
        functionPort: 0,
        sandboxPort: 0,
        senderPolicySet: false,
      },
    });
  });

  it('runs live with a complete credential: secret or certificate', () => {
    const base = { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c' };
    expect(loadStackSettings({ ...base, AZURE_CLIENT_SECRET: 's' }, '/w')).toMatchObject({
      settings: { mode: 'live' },
    });
    expect(loadStackSettings({ ...base, AZURE_CLIENT_CERTIFICATE_PATH: '/k.pem' }, '/w')).toMatchObject({
      settings: { mode: 'live' },
    });
  });

  it('refuses a partial credential instead of falling back to the sandbox silently', () => {
    expect(loadStackSettings({ AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's' }, '/w')).toEqual({
      issues: [
        'Microsoft 365 credentials are incomplete: set AZURE_TENANT_ID too, or unset the AZURE_* variables to run the sandbox.',
      ],
    });
  });

  it('takes ports, data directory and sender policy from the environment and lists every bad value', () => {
    expect(
      loadStackSettings(
        { BRIDGE_SMTP_PORT: '0', BRIDGE_DATA_DIR: 'var/bridge', BRIDGE_DEFAULT_SENDER: 'scan@contoso.com' },
        '/srv',
      ),
    ).toMatchObject({
      settings: { smtp: { port: 0 }, dataDir: '/srv/var/bridge', senderPolicySet: true },
    });
    const bad = loadStackSettings({ BRIDGE_SMTP_PORT: '70000', BRIDGE_HTTP_PORT: 'web' }, '/w');
    expect('issues' in bad && bad.issues).toHaveLength(2);
  });
});

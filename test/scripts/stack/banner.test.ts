import { describe, expect, it } from 'vitest';

import { readyBanner } from '../../../scripts/stack/banner';
import type { StackInfo } from '../../../scripts/stack/stack';

const info: StackInfo = {
  mode: 'sandbox',
  dataDir: '/srv/bridge/.data',
  smtp: { host: '0.0.0.0', port: 2525 },
  statusUrl: 'http://127.0.0.1:8025/',
  functionUrl: 'http://127.0.0.1:40001',
  sandboxUrl: 'https://127.0.0.1:40002',
  keptMessagesDir: '/srv/bridge/.data/graph-sandbox',
  adminTokenFile: '/srv/bridge/.data/secrets/admin-token',
  logDir: '/srv/bridge/.data/logs',
  sandboxSenderPolicy: '*',
};

describe('the ready banner', () => {
  it('names the mode first, then where SMTP and the status page listen, the permissive sandbox policy and the token path', () => {
    const text = readyBanner(info, '/srv/bridge');
    const lines = text.split('\n').filter((l) => l.trim());
    expect(lines[0]).toContain('SANDBOX MODE — nothing leaves this machine');
    expect(text).toContain('SMTP           127.0.0.1:2525 (all interfaces: point a copier at this machine)');
    expect(text).toContain('Status page    http://127.0.0.1:8025/');
    expect(text).toContain(
      'Sender policy  BRIDGE_ALLOWED_SENDERS=* (sandbox default: any sender may send as itself)',
    );
    expect(text).toContain('Admin token    .data/secrets/admin-token');
    expect(text).toContain('swaks --server 127.0.0.1:2525');
  });

  it('says LIVE MODE with credentials and shows no sandbox lines', () => {
    const { sandboxUrl: _s, keptMessagesDir: _k, sandboxSenderPolicy: _p, ...live } = info;
    const text = readyBanner({ ...live, mode: 'live' }, '/elsewhere');
    expect(text).toContain('LIVE MODE — messages are sent through Microsoft Graph');
    expect(text).not.toMatch(/Kept messages|Sender policy|SANDBOX/);
    expect(text).toContain('/srv/bridge/.data/secrets/admin-token');
  });
});

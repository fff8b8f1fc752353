import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startLocalFunctionHost, type LocalFunctionHost } from '../../../dev/function-host/host';
import { runAdminCli } from '../../../scripts/admin/admin-cli';
import { postMessage, SENDER, startKit, type Kit } from '../function-test-kit';

/**
 * The admin API through a real HTTP host (the local function host serves the same route table as Azure) and
 * the CLI over it: keys, tenants, sites, the config snippet with its one-time secret, rotation with an
 * overlap window, disabling a site.
 */
const ADMIN_KEY = 'admin-key-0123456789abcdef0123456789abcdef';
const FUNCTION_KEY = 'function-key-0123456789abcdef';
const TENANT = 'aaaaaaaa-0000-4000-8000-00000000000a';
const REDIRECT = 'https://bridge.example/api/v1/consent/callback';

let kit: Kit;
let host: LocalFunctionHost;
let env: Record<string, string>;

beforeAll(async () => {
  kit = await startKit('adminapi', {
    settings: { BRIDGE_ADMIN_KEY: ADMIN_KEY, BRIDGE_CONSENT_REDIRECT_URI: REDIRECT },
  });
  host = await startLocalFunctionHost(kit.config, {
    services: kit.services,
    functionKey: FUNCTION_KEY,
    queueTrigger: false,
    logHandler: () => undefined,
  });
  env = { BRIDGE_ADMIN_URL: host.url, BRIDGE_ADMIN_KEY: ADMIN_KEY, BRIDGE_FUNCTION_KEY: FUNCTION_KEY };
});

afterAll(async () => {
  await host?.close();
  await kit?.close();
});

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runAdminCli(argv, env, (t) => (out += t));
  return { code, out };
}

describe('admin API keys', () => {
  it('needs the function key (host) and then the admin key (handler)', async () => {
    const noFunctionKey = await fetch(`${host.url}/api/v1/admin/tenants`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(noFunctionKey.status).toBe(401);
    const wrongAdminKey = await fetch(`${host.url}/api/v1/admin/tenants`, {
      headers: { authorization: 'Bearer not-the-admin-key', 'x-functions-key': FUNCTION_KEY },
    });
    expect(wrongAdminKey.status).toBe(401);
    expect(((await wrongAdminKey.json()) as { error: { code: string } }).error.code).toBe(
      'ADMIN_UNAUTHORIZED',
    );
    const noAdminKey = await fetch(`${host.url}/api/v1/admin/tenants`, {
      headers: { 'x-functions-key': FUNCTION_KEY },
    });
    expect(noAdminKey.status).toBe(401);
    const ok = await fetch(`${host.url}/api/v1/admin/tenants`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-functions-key': FUNCTION_KEY },
    });
    expect(ok.status).toBe(200);
  });

  it('is off (404 ADMIN_DISABLED) without BRIDGE_ADMIN_KEY, whatever key is sent', async () => {
    const off = await startKit('adminoff');
    const offHost = await startLocalFunctionHost(off.config, {
      services: off.services,
      queueTrigger: false,
      logHandler: () => undefined,
    });
    try {
      const res = await fetch(`${offHost.url}/api/v1/admin/tenants`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ADMIN_DISABLED');
    } finally {
      await offHost.close();
      await off.close();
    }
  });

  it('stays off, without stopping delivery, while the admin key is an unresolved Key Vault reference', async () => {
    const pending = await startKit('adminkv', {
      settings: {
        BRIDGE_ADMIN_KEY:
          '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/bridge-admin-key)',
      },
    });
    try {
      expect(pending.config.adminKey).toBeUndefined();
      expect(pending.config.adminKeyUnresolved).toBe(true);
      expect((await postMessage(pending.services)).res.status).toBe(200);
    } finally {
      await pending.close();
    }
  });

  it('refuses a short admin key in the settings', async () => {
    await expect(startKit('adminshort', { settings: { BRIDGE_ADMIN_KEY: 'short' } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

describe('npm run admin', () => {
  it('tenant add prints the admin-consent URL and the steps; tenant list and show see it', async () => {
    const added = await cli('tenant', 'add', TENANT, '--name', 'Contoso', '--model', 'tenantWideConsent');
    expect(added.code).toBe(0);
    const url = new URL(/https:\/\/\S+adminconsent\S+/.exec(added.out)?.[0] ?? 'https://missing');
    expect(url.pathname).toBe(`/${TENANT}/v2.0/adminconsent`);
    expect(url.origin).toBe(kit.graph.authorityHost);
    expect(url.searchParams.get('client_id')).toBe('app-client-id');
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(url.searchParams.get('scope')).toBe(`${kit.graph.url}/.default`);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{32}$/);

    expect((await cli('tenant', 'list')).out).toMatch(
      new RegExp(`${TENANT}\\s+pending\\s+tenantWideConsent\\s+Contoso`),
    );
    const shown = await cli('tenant', 'show', TENANT);
    expect(shown.out).toContain('consent          pending');
    expect(shown.out).toContain('sent 0, queued 0, held 0, failed 0');
  });

  it('refuses a tenant domain or "common" instead of the tenant id', async () => {
    const r = await cli('tenant', 'add', 'common', '--name', 'X');
    expect(r.code).toBe(1);
    expect(r.out).toContain('ADMIN_REQUEST_INVALID');
  });

  it('site add prints the edge settings with the secret once; the site then sends in its tenant', async () => {
    const added = await cli(
      'site',
      'add',
      'contoso-hq',
      '--tenant',
      TENANT,
      '--sender',
      SENDER,
      '--rate-per-minute',
      '100',
    );
    expect(added.code).toBe(0);
    expect(added.out).toContain(`BRIDGE_FUNCTION_URL=${host.url}`);
    expect(added.out).toContain('BRIDGE_SITE_ID=contoso-hq');
    const secret = /BRIDGE_SITE_SECRET=(\S+)/.exec(added.out)?.[1] ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(32);

    const shown = await cli('site', 'show', 'contoso-hq', '--json');
    expect(shown.out).not.toContain(secret);
    expect((await cli('site', 'list')).out).not.toContain(secret);

    const sent = await postMessage(kit.services, {
      envelope: { siteId: 'contoso-hq' },
      post: { site: 'contoso-hq', secret },
    });
    expect(sent.res.status).toBe(200);
    expect(kit.graph.messages().at(-1)?.tenantId).toBe(TENANT);
    expect((await cli('site', 'show', 'contoso-hq')).out).toContain('sent 1');
  });

  it('rotate-secret keeps the old secret valid for the overlap, a zero overlap ends it at once', async () => {
    const first = await cli('site', 'add', 'contoso-branch', '--tenant', TENANT, '--sender', SENDER);
    const v1 = /BRIDGE_SITE_SECRET=(\S+)/.exec(first.out)?.[1] ?? '';
    const rotated = await cli('site', 'rotate-secret', 'contoso-branch');
    expect(rotated.code).toBe(0);
    const v2 = /BRIDGE_SITE_SECRET=(\S+)/.exec(rotated.out)?.[1] ?? '';
    expect(v2).not.toBe(v1);
    const post = (secret: string) =>
      postMessage(kit.services, {
        envelope: { siteId: 'contoso-branch' },
        post: { site: 'contoso-branch', secret },
      });
    expect((await post(v1)).res.status).toBe(200);
    expect((await post(v2)).res.status).toBe(200);
    expect((await cli('site', 'show', 'contoso-branch')).out).toMatch(/secret v1 from \S+, valid until/);

    const again = await cli('site', 'rotate-secret', 'contoso-branch', '--overlap-hours', '0');
    const v3 = /BRIDGE_SITE_SECRET=(\S+)/.exec(again.out)?.[1] ?? '';
    const refused = await post(v2);
    expect(refused.res.status).toBe(401);
    expect(refused.body.error?.code).toBe('SITE_SIGNATURE_INVALID');
    expect((await post(v3)).res.status).toBe(200);
  });

  it('site disable refuses new messages with SITE_DISABLED (retryable: the edge keeps them); enable lets them in', async () => {
    const added = await cli('site', 'add', 'contoso-lab', '--tenant', TENANT, '--sender', SENDER);
    const secret = /BRIDGE_SITE_SECRET=(\S+)/.exec(added.out)?.[1] ?? '';
    expect((await cli('site', 'disable', 'contoso-lab')).code).toBe(0);
    const post = () =>
      postMessage(kit.services, {
        envelope: { siteId: 'contoso-lab' },
        post: { site: 'contoso-lab', secret },
      });
    const refused = await post();
    expect(refused.res.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'SITE_DISABLED', retryable: true });
    expect((await cli('site', 'list')).out).toMatch(/contoso-lab\s+\S+\s+DISABLED/);
    await cli('site', 'enable', 'contoso-lab');
    expect((await post()).res.status).toBe(200);
  });

  it('tenant remove is refused while the tenant has sites', async () => {
    const r = await cli('tenant', 'remove', TENANT);
    expect(r.code).toBe(1);
    expect(r.out).toContain('still has sites');
  });

  it('answers --help on every command and refuses unknown ones', async () => {
    for (const [group, names] of [
      ['tenant', ['add', 'list', 'show', 'remove', 'consent-url']],
      ['site', ['add', 'list', 'show', 'disable', 'enable', 'rotate-secret']],
    ] as const) {
      for (const name of names) {
        const r = await cli(group, name, '--help');
        expect(r.code, `${group} ${name}`).toBe(0);
        expect(r.out).toContain(`Usage: npm run admin -- ${group} ${name}`);
        expect(r.out).toContain('BRIDGE_ADMIN_KEY');
      }
    }
    expect((await cli('--help')).code).toBe(0);
    expect((await cli('site', 'explode')).code).toBe(2);
  });

  it('runs as `npm run admin` (the package script) and says what is missing', () => {
    const root = join(__dirname, '..', '..', '..');
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', 'admin', 'main.ts'), 'tenant', 'list'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('BRIDGE_ADMIN_URL is not set');
  });
});
